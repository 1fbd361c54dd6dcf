package llm

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// ImageSummary describes an image sent as a data URL without its bytes:
// "image/png, 1234 bytes, sha256:...". For a URL that is not a data URL
// it returns the URL.
func ImageSummary(url string) string {
	mediaType, data, ok := decodeDataURL(url)
	if !ok {
		return url
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s, %d bytes, sha256:%s", mediaType, len(data), hex.EncodeToString(sum[:]))
}

// decodeDataURL returns the media type and bytes of a base64 data URL.
func decodeDataURL(url string) (string, []byte, bool) {
	rest, ok := strings.CutPrefix(url, "data:")
	if !ok {
		return "", nil, false
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return "", nil, false
	}
	mediaType, isBase64 := strings.CutSuffix(meta, ";base64")
	var data []byte
	if isBase64 {
		var err error
		if data, err = base64.StdEncoding.DecodeString(payload); err != nil {
			return "", nil, false
		}
	} else {
		data = []byte(payload)
	}
	if mediaType == "" {
		mediaType = "text/plain"
	}
	return mediaType, data, true
}

// spanMessages are the messages of req as its span records them: data
// URL images as their summary unless req.KeepImages.
func spanMessages(req Request) []Message {
	if req.KeepImages {
		return req.Messages
	}
	var out []Message
	for i, m := range req.Messages {
		if len(m.Parts) == 0 {
			continue
		}
		if out == nil {
			out = append([]Message(nil), req.Messages...)
		}
		parts := append([]Part(nil), m.Parts...)
		for k, p := range parts {
			if p.Type == PartImage && strings.HasPrefix(p.ImageURL, "data:") {
				summary := ImageSummary(p.ImageURL)
				if p.Source != "" {
					summary = p.Source + ", " + summary
				}
				parts[k].ImageURL = "[image: " + summary + "]"
			}
		}
		out[i].Parts = parts
	}
	if out == nil {
		return req.Messages
	}
	return out
}
