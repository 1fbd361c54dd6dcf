package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/gavel-eval/gavel/llm"
)

// cacheFlags choose the model-call cache.
type cacheFlags struct {
	mode     string
	path     string
	cassette string
}

func (c *cacheFlags) register(f *pflag.FlagSet) {
	f.StringVar(&c.mode, "cache", "rw", "model-call cache `mode`: rw, ro, off or replay (replay calls no model: a call not in the cache is an error)")
	f.StringVar(&c.path, "cache-path", "", "the cache `file` (default $XDG_CACHE_HOME/gavel/cache.db, else ~/.cache/gavel/cache.db)")
	f.StringVar(&c.cassette, "cassette", "", "a cassette `file` next to the spec: replay/ro read it (no cache file needed); rw also writes the calls this run made to it")
}

// openedCache is the cache of one command and what to do when it ends.
type openedCache struct {
	mode   llm.CacheMode
	cache  llm.Cache
	finish func() error
}

// open opens the cache the flags ask for.
func (c *cacheFlags) open(env *Env) (*openedCache, error) {
	mode, err := llm.ParseCacheMode(c.mode)
	if err != nil {
		return nil, err
	}
	oc := &openedCache{mode: mode, finish: func() error { return nil }}
	if mode == llm.CacheOff {
		return oc, nil
	}
	if c.cassette != "" && mode != llm.CacheReadWrite {
		mc, err := llm.LoadCassetteCache(c.cassette)
		if err != nil {
			return nil, err
		}
		oc.cache = mc
		return oc, nil
	}
	path := c.path
	if path == "" {
		if path, err = defaultCachePath(env); err != nil {
			if mode == llm.CacheReadWrite && c.mode == "rw" {
				// No home to keep a cache in (a bare CI container):
				// run without one rather than fail.
				oc.mode = llm.CacheOff
				return oc, nil
			}
			return nil, err
		}
	}
	bc, err := llm.OpenBoltCache(path, llm.BoltOptions{ReadOnly: mode != llm.CacheReadWrite, LockTimeout: 20 * time.Second})
	if err != nil {
		if mode == llm.CacheReplay && errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("--cache replay: no cache at %s: record the calls first (--cache rw) or give --cassette FILE", path)
		}
		// The cache's errors name its file.
		return nil, damagedCache(err, "move it away or use --cache off")
	}
	oc.cache = bc
	// A file found damaged during the run fails a replay (its calls are
	// error rows); in the other modes the calls it could not answer were
	// made, and it is a warning.
	checkDamaged := func(err error) error {
		d := bc.Damaged()
		switch {
		case d == nil:
			return err
		case mode == llm.CacheReplay:
			return errors.Join(err, damagedCache(d, "move it away or use --cache off"))
		}
		fmt.Fprintf(env.Stderr, "gavel: %v; the calls it could not answer were sent to the model\n", damagedCache(d, "move it away or use --cache off"))
		return err
	}
	oc.finish = func() error { return checkDamaged(bc.Close()) }
	if c.cassette != "" {
		rec := &llm.RecordingCache{Inner: bc}
		oc.cache = rec
		oc.finish = func() error {
			err := writeFile(c.cassette, func(f *os.File) error {
				return rec.ExportCassette(bc, f)
			})
			var missing *llm.MissingKeysError
			if errors.As(err, &missing) {
				// Calls that failed were never cached: the cassette holds
				// the rest.
				fmt.Fprintf(env.Stderr, "gavel: cassette %s: %v\n", c.cassette, err)
				err = nil
			}
			return checkDamaged(errors.Join(err, bc.Close()))
		}
	}
	return oc, nil
}

func defaultCachePath(env *Env) (string, error) {
	if d := env.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "gavel", "cache.db"), nil
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "gavel", "cache.db"), nil
	}
	return "", errors.New("no cache location: set XDG_CACHE_HOME or HOME, or pass --cache-path (or --cache off)")
}

// damagedCache rewrites the error of a cache file bbolt cannot read as
// "cache FILE is damaged: " and what to do, followed by what bbolt found
// (it still wraps the *llm.CacheDamagedError); it returns any other error
// as it is.
func damagedCache(err error, todo string) error {
	var de *llm.CacheDamagedError
	if !errors.As(err, &de) {
		return err
	}
	return &damagedCacheError{msg: fmt.Sprintf("cache %s is damaged: %s (%s)", de.Path, todo, de.Cause), err: de}
}

type damagedCacheError struct {
	msg string
	err error
}

func (e *damagedCacheError) Error() string { return e.msg }
func (e *damagedCacheError) Unwrap() error { return e.err }
