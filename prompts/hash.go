package prompts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// The content hash of a version is sha256 over a canonical JSON of its
// content only: the text or messages and the config (inline, or the
// reference as written) for a prompt; model, provider, params and extends
// for a config. Note, author, created and the version's name are not
// content. The JSON is encoding/json's: keys in the order below, map keys
// sorted, no HTML escaping, no spaces.

// promptContent is the canonical JSON of a prompt version's content.
type promptContent struct {
	Text     *string   `json:"text,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	Config   any       `json:"config,omitempty"` // *Config or the reference string
}

// configContent is the canonical JSON of a config version's content.
type configContent struct {
	Model    string         `json:"model,omitempty"`
	Provider string         `json:"provider,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	Extends  string         `json:"extends,omitempty"`
}

// canonicalJSON returns v's canonical JSON.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The decoder admits only values JSON holds (finite numbers,
		// string keys): this cannot happen.
		panic("prompts: canonical JSON: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// sha256Hex is "sha256:" and the hex sha256 of b.
func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// contentJSON returns the canonical JSON of the version's content.
func (v *Version) contentJSON() []byte {
	c := promptContent{Messages: v.Messages}
	if v.Messages == nil {
		c.Text = &v.Text
	}
	switch {
	case v.Config != nil:
		c.Config = v.Config
	case v.ConfigRef != "":
		c.Config = v.ConfigRef
	}
	return canonicalJSON(c)
}

// contentHash returns the version's content hash.
func (v *Version) contentHash() string { return sha256Hex(v.contentJSON()) }

// contentHash returns the config version's content hash.
func (v *ConfigVersion) contentHash() string {
	return sha256Hex(canonicalJSON(configContent{Model: v.Config.Model, Provider: v.Config.Provider, Params: v.Config.Params, Extends: v.Extends}))
}
