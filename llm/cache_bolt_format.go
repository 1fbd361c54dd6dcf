package llm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CacheFormat is the version of the layout of a BoltCache file (its
// buckets and meta data; the responses in a cassette have the same form).
// A cache written by a newer gavel, with a higher format, is refused rather
// than misread.
const CacheFormat = 1

// CacheEntryFormat is the version of the entries gavel stores in a
// BoltCache. Since version 2 every entry carries the SHA-256 of its model
// and reply, checked on every read. An entry of version 1 (stored by an
// older gavel, with no checksum) cannot be verified: Get reports it as
// ErrCacheEntryUnverified, so that a read-write run calls the model again
// and replaces it, and a replay refuses it; ExportCassette still exports
// it.
const CacheEntryFormat = 2

// Bucket and meta key names in the file.
var (
	boltEntries   = []byte("entries")
	boltMeta      = []byte("meta")
	boltFormatKey = []byte("format")
)

// bucketOf returns the named bucket, or nil when tx is nil or has none.
func bucketOf(tx *bolt.Tx, name []byte) *bolt.Bucket {
	if tx == nil {
		return nil
	}
	return tx.Bucket(name)
}

// initBoltFile checks the format of the file and creates what a new (or
// emptied) file lacks. It runs at the start of every write transaction.
func initBoltFile(tx *bolt.Tx) error {
	if err := checkBoltFormat(tx); err != nil {
		return err
	}
	if tx.Bucket(boltMeta) == nil {
		meta, err := tx.CreateBucket(boltMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(boltFormatKey, []byte(strconv.Itoa(CacheFormat))); err != nil {
			return err
		}
	}
	_, err := tx.CreateBucketIfNotExists(boltEntries)
	return err
}

// checkBoltFormat checks that the file is a gavel cache (or an empty bbolt
// file) in a format this version reads. A nil tx (no file) passes.
func checkBoltFormat(tx *bolt.Tx) error {
	if tx == nil {
		return nil
	}
	meta := tx.Bucket(boltMeta)
	if meta == nil {
		foreign := false
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
			foreign = true
			return nil
		})
		if foreign {
			return errors.New("not a gavel cache (a bbolt file with other buckets)")
		}
		return nil
	}
	raw := meta.Get(boltFormatKey)
	f, err := strconv.Atoi(string(raw))
	if err != nil || f < 1 {
		return fmt.Errorf("not a gavel cache (format %q)", raw)
	}
	if f > CacheFormat {
		return fmt.Errorf("cache format %d is newer than this gavel's (%d): upgrade gavel", f, CacheFormat)
	}
	return nil
}

// boltValue is the stored form of an entry; the key is the bbolt key.
// SHA256 is the checksum of Model and Response (see entrySum); entries of
// format 1 have none.
type boltValue struct {
	Format   int             `json:"format"`
	Model    string          `json:"model,omitempty"`
	Created  time.Time       `json:"created"`
	Response json.RawMessage `json:"response"`
	SHA256   string          `json:"sha256,omitempty"`
}

// entrySum is the checksum stored with an entry: the hex SHA-256 of its
// model, a NUL byte and its reply's canonical JSON.
func entrySum(model string, resp []byte) string {
	h := sha256.New()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write(resp)
	return hex.EncodeToString(h.Sum(nil))
}

func encodeBoltValue(e CacheEntry) ([]byte, error) {
	if err := checkCacheKey(e.Key); err != nil {
		return nil, err
	}
	resp, err := encodeResponse(e.Response)
	if err != nil {
		return nil, err
	}
	created := e.Created
	if created.IsZero() {
		created = time.Now()
	}
	// Without HTML escaping the stored reply is byte for byte the one
	// the checksum covers.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err = enc.Encode(boltValue{
		Format:   CacheEntryFormat,
		Model:    e.Model,
		Created:  created.UTC().Round(time.Millisecond),
		Response: resp,
		SHA256:   entrySum(e.Model, resp),
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// decodeBoltValue decodes a stored entry and verifies its checksum: an
// entry that cannot be read, or whose checksum does not match, is an error
// wrapping ErrCacheEntryDamaged. An entry of format 1 has no checksum to
// verify and is returned as it is (with its Format).
func decodeBoltValue(raw []byte) (boltValue, error) {
	var v boltValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("%w: unreadable entry: %v", ErrCacheEntryDamaged, err)
	}
	if v.Format < 1 || v.Format > CacheEntryFormat {
		return v, fmt.Errorf("entry format %d not supported (this gavel reads 1 to %d)", v.Format, CacheEntryFormat)
	}
	if v.Format >= 2 && v.SHA256 != entrySum(v.Model, v.Response) {
		return v, ErrCacheEntryDamaged
	}
	return v, nil
}

// putBoltValue stores v under key unless the same model and reply are
// stored there already, verified by their checksum.
func putBoltValue(tx *bolt.Tx, key string, v []byte) error {
	b := tx.Bucket(boltEntries)
	if old := b.Get([]byte(key)); old != nil && sameBoltValue(old, v) {
		return nil
	}
	return b.Put([]byte(key), v)
}

// sameBoltValue reports whether two stored values hold the same model and
// reply (whatever their creation times), both in the current format with a
// valid checksum: a damaged or older entry is always replaced.
func sameBoltValue(a, b []byte) bool {
	va, err := decodeBoltValue(a)
	if err != nil || va.Format != CacheEntryFormat {
		return false
	}
	vb, err := decodeBoltValue(b)
	if err != nil || vb.Format != CacheEntryFormat {
		return false
	}
	return va.Model == vb.Model && bytes.Equal(va.Response, vb.Response)
}
