package eval

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// historyRole marks, in a PromptSpec, the place of the chat history a
// dataset field holds: its Content is "example.FIELD". It is no chat role,
// so it cannot be confused with a message.
const historyRole = "messages"

// maxImageBytes bounds an image read from a local file.
const maxImageBytes = 20 << 20

// decodeMessages reads a list of prompt messages: {role, content} with a
// template content or a list of parts ({type: text, text: TEMPLATE},
// {type: image_url, image_url: TEMPLATE or {url: TEMPLATE, detail}}), or
// {messages: example.FIELD}, the chat history of the example spliced in.
func (d *decoder) decodeMessages(n *yaml.Node, path string) ([]llm.Message, error) {
	msgs := make([]llm.Message, 0, len(n.Content))
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			return nil, d.errf(item, at, "expected a message {role, content} or {messages: example.FIELD}, got %s", describe(item))
		}
		if field := valueNode(item, historyRole); field != nil {
			if len(item.Content) != 2 {
				return nil, d.errf(item, at, "{messages: example.FIELD} takes no other key")
			}
			if err := checkHistoryField(field.Value); err != nil {
				return nil, d.errf(field, at+".messages", "%v", err)
			}
			msgs = append(msgs, llm.Message{Role: historyRole, Content: field.Value})
			continue
		}
		var m llm.Message
		for k := 0; k+1 < len(item.Content); k += 2 {
			key, val := item.Content[k].Value, item.Content[k+1]
			switch key {
			case "role":
				m.Role = val.Value
			case "content":
				if val.Kind == yaml.SequenceNode {
					parts, err := d.decodeParts(val, at+".content")
					if err != nil {
						return nil, err
					}
					m.Parts = parts
				} else if val.Kind == yaml.ScalarNode {
					m.Content = val.Value
				} else {
					return nil, d.errf(val, at+".content", "expected a template or a list of parts, got %s", describe(val))
				}
			default:
				return nil, d.errf(item.Content[k], at+"."+key, "unknown field (known: content, role; or messages)")
			}
		}
		switch {
		case slices.Contains(messageRoles, m.Role):
		case m.Role == "":
			return nil, d.errf(item, at+".role", "missing role (system, user or assistant)")
		default:
			return nil, d.errf(item, at+".role", "unknown role %q (system, user, assistant or developer)", m.Role)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// decodeParts reads a message's content parts.
func (d *decoder) decodeParts(n *yaml.Node, path string) ([]llm.Part, error) {
	var parts []llm.Part
	for i, item := range n.Content {
		at := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			return nil, d.errf(item, at, "expected a part {type: text, text} or {type: image_url, image_url}, got %s", describe(item))
		}
		var p llm.Part
		for k := 0; k+1 < len(item.Content); k += 2 {
			key, val := item.Content[k].Value, item.Content[k+1]
			switch key {
			case "type":
				p.Type = val.Value
			case "text":
				p.Text = val.Value
			case "image_url":
				if val.Kind == yaml.MappingNode {
					p.ImageURL = mappingValue(val, "url")
					p.Detail = mappingValue(val, "detail")
				} else {
					p.ImageURL = val.Value
				}
			case "detail":
				p.Detail = val.Value
			default:
				return nil, d.errf(item.Content[k], at+"."+key, "unknown field (known: detail, image_url, text, type)")
			}
		}
		switch {
		case p.Type == llm.PartText && p.Text != "":
		case p.Type == llm.PartImage && p.ImageURL != "":
		case p.Type == llm.PartText:
			return nil, d.errf(item, at+".text", "missing")
		case p.Type == llm.PartImage:
			return nil, d.errf(item, at+".image_url", "missing (a URL, a data URL, base64 or a file path; a template)")
		default:
			return nil, d.errf(item, at+".type", "%q: want text or image_url", p.Type)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return nil, d.errf(n, path, "no parts")
	}
	return parts, nil
}

func checkHistoryField(v string) error {
	field, ok := strings.CutPrefix(v, "example.")
	if !ok || field == "" || strings.ContainsAny(field, ". {}") {
		return fmt.Errorf("%q: want example.FIELD, the field holding the chat messages", v)
	}
	return nil
}

// promptTmpl is a compiled prompt: its messages' templates, and the
// places of chat histories from the example.
type promptTmpl struct {
	msgs []msgTmpl
	// dir resolves image file paths; keepImages records images whole on
	// spans.
	dir string
}

type msgTmpl struct {
	role    string
	text    *prompts.Template
	parts   []partTmpl
	history string // the example's field holding chat messages
}

type partTmpl struct {
	typ, detail string
	t           *prompts.Template
}

// compilePrompt parses the templates of a prompt's messages.
func compilePrompt(name string, p PromptSpec, dir string) (*promptTmpl, error) {
	out := &promptTmpl{dir: dir}
	for i, m := range p.Messages {
		what := fmt.Sprintf("%s prompt message %d", name, i+1)
		mt := msgTmpl{role: m.Role}
		switch {
		case m.Role == historyRole:
			mt.history = strings.TrimPrefix(m.Content, "example.")
		case len(m.Parts) > 0:
			for k, part := range m.Parts {
				src := part.Text
				if part.Type == llm.PartImage {
					src = part.ImageURL
				}
				t, err := prompts.Parse(fmt.Sprintf("%s part %d", what, k+1), src)
				if err != nil {
					return nil, err
				}
				mt.parts = append(mt.parts, partTmpl{typ: part.Type, detail: part.Detail, t: t})
			}
		default:
			t, err := prompts.Parse(what, m.Content)
			if err != nil {
				return nil, err
			}
			mt.text = t
		}
		out.msgs = append(out.msgs, mt)
	}
	return out, nil
}

// render renders the prompt for data. With check, images are not read:
// their templates are rendered and the histories' shapes checked, as
// before a run.
func (p *promptTmpl) render(data map[string]any, check bool) ([]llm.Message, error) {
	var out []llm.Message
	for i, m := range p.msgs {
		switch {
		case m.history != "":
			ex, _ := data["example"].(map[string]any)
			hist, err := historyOf(ex, m.history)
			if err != nil {
				return nil, fmt.Errorf("prompt message %d: %w", i+1, err)
			}
			out = append(out, hist...)
		case m.parts != nil:
			msg := llm.Message{Role: m.role}
			for k, pt := range m.parts {
				text, err := pt.t.Render(data)
				if err != nil {
					return nil, err
				}
				part := llm.Part{Type: pt.typ, Detail: pt.detail}
				if pt.typ == llm.PartText {
					part.Text = text
				} else if part.ImageURL, part.Source, err = p.imageURL(text, check); err != nil {
					return nil, fmt.Errorf("prompt message %d part %d: %w", i+1, k+1, err)
				}
				msg.Parts = append(msg.Parts, part)
			}
			out = append(out, msg)
		default:
			text, err := m.text.Render(data)
			if err != nil {
				return nil, err
			}
			out = append(out, llm.Message{Role: m.role, Content: text})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the prompt has no messages (the chat history is empty)")
	}
	return out, nil
}

// imageURL turns what an image part's template rendered into what is
// sent: an http(s) or data URL as it is, base64 as a data URL of the
// type its bytes show, else a file path (relative to the spec) whose
// bytes are sent as a data URL.
//
// It also returns the file's path when the image came from one.
func (p *promptTmpl) imageURL(s string, check bool) (string, string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "", fmt.Errorf("the image is empty")
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "data:"):
		return s, "", nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(s) >= 16 && !strings.ContainsAny(s, "./\\") {
		t := imageType(b)
		if t == "" {
			return "", "", fmt.Errorf("the image is base64 of %s, not of an image", http.DetectContentType(b))
		}
		return "data:" + t + ";base64," + s, "", nil
	}
	path := s
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("image %s: %w", s, err)
	}
	if st.Size() > maxImageBytes {
		return "", "", fmt.Errorf("image %s: %d bytes, more than the %d an image may have", s, st.Size(), maxImageBytes)
	}
	if check {
		// The first bytes tell whether it is an image.
		f, err := os.Open(path)
		if err != nil {
			return "", "", fmt.Errorf("image %s: %w", s, err)
		}
		head := make([]byte, 512)
		n, _ := f.Read(head)
		f.Close()
		if imageType(head[:n]) == "" {
			return "", "", fmt.Errorf("image %s: the file is %s, not an image", s, http.DetectContentType(head[:n]))
		}
		return "data:image/*;base64,", s, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("image %s: %w", s, err)
	}
	// A dataset field is untrusted: only a file that is an image is sent,
	// never any other file it names.
	t := imageType(b)
	if t == "" {
		return "", "", fmt.Errorf("image %s: the file is %s, not an image", s, http.DetectContentType(b))
	}
	return "data:" + t + ";base64," + base64.StdEncoding.EncodeToString(b), s, nil
}

// imageType is the media type the bytes show (image/png, image/jpeg,
// ...), or "" when they are not an image.
func imageType(b []byte) string {
	t := http.DetectContentType(b)
	if !strings.HasPrefix(t, "image/") {
		return ""
	}
	return t
}

// historyOf reads the chat history in the example's field: a list of
// {role, content} objects (content a string, null, or a list of parts),
// with an assistant's tool_calls and a tool message's tool_call_id.
func historyOf(ex map[string]any, field string) ([]llm.Message, error) {
	raw, ok := ex[field]
	if !ok || raw == nil {
		return nil, fmt.Errorf("the example has no field %q holding its chat messages", field)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("field %q is not a list of {role, content} messages", field)
	}
	msgs := make([]llm.Message, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("field %q: message %d is not a {role, content} object", field, i+1)
		}
		role, _ := m["role"].(string)
		if !slices.Contains(messageRoles, role) && role != "tool" {
			return nil, fmt.Errorf("field %q: message %d: role %v: want system, user, assistant, developer or tool", field, i+1, m["role"])
		}
		msg := llm.Message{Role: role}
		switch c := m["content"].(type) {
		case string:
			msg.Content = c
		case nil:
		case []any:
			for k, pv := range c {
				pm, _ := pv.(map[string]any)
				typ, _ := pm["type"].(string)
				switch typ {
				case llm.PartText:
					text, _ := pm["text"].(string)
					msg.Parts = append(msg.Parts, llm.Part{Type: typ, Text: text})
				case llm.PartImage:
					url, _ := pm["image_url"].(string)
					if um, ok := pm["image_url"].(map[string]any); ok {
						url, _ = um["url"].(string)
					}
					msg.Parts = append(msg.Parts, llm.Part{Type: typ, ImageURL: url})
				default:
					return nil, fmt.Errorf("field %q: message %d part %d: type %v: want text or image_url", field, i+1, k+1, pm["type"])
				}
			}
		default:
			return nil, fmt.Errorf("field %q: message %d: content is not text or a list of parts", field, i+1)
		}
		if id, ok := m["tool_call_id"].(string); ok {
			msg.ToolCallID = id
		}
		if calls, ok := m["tool_calls"].([]any); ok {
			for _, cv := range calls {
				cm, _ := cv.(map[string]any)
				fn, _ := cm["function"].(map[string]any)
				if fn == nil {
					fn = cm
				}
				id, _ := cm["id"].(string)
				name, _ := fn["name"].(string)
				args, _ := fn["arguments"].(string)
				msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: id, Name: name, Arguments: args})
			}
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}
