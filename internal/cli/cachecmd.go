package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/llm"
)

func newCacheCmd(env *Env) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Inspect the model-call cache, and move calls between it and cassette files",
		Long: `The cache stores model replies by the content address of their request
(model, messages, parameters, seed; never the API key), shared by every run
on this machine. A cassette is a JSON Lines file of cache entries to commit
next to a spec, so CI can replay an evaluation with no key:
gavel run --cache replay --cassette FILE.`,
	}
	cmd.PersistentFlags().StringVar(&path, "cache-path", "", "the cache `file` (default $XDG_CACHE_HOME/gavel/cache.db, else ~/.cache/gavel/cache.db)")
	open := func(readOnly bool) (*llm.BoltCache, error) {
		p := path
		if p == "" {
			var err error
			if p, err = defaultCachePath(env); err != nil {
				return nil, err
			}
		}
		c, err := llm.OpenBoltCache(p, llm.BoltOptions{ReadOnly: readOnly, LockTimeout: 20 * time.Second})
		return c, damagedCache(err, "move it away")
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "export FILE",
		Short: "Write every cached call to a cassette file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := open(true)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			defer c.Close()
			if err := writeFile(args[0], func(f *os.File) error { return llm.ExportCassette(c, f, nil) }); err != nil {
				// Leave no half-written cassette behind.
				_ = os.Remove(args[0])
				return withExitCode(damagedCache(err, "move it away"), ExitError)
			}
			n, _ := c.Len(cmd.Context())
			_, err = fmt.Fprintf(env.Stdout, "exported %d calls to %s\n", n, args[0])
			return err
		},
	}, &cobra.Command{
		Use:   "import FILE",
		Short: "Add a cassette's calls to the cache",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return withExitCode(err, ExitError)
			}
			defer f.Close()
			c, err := open(false)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			n, err := llm.ImportCassette(c, f)
			if cerr := c.Close(); err == nil {
				err = cerr
			}
			if errors.Is(err, llm.ErrCacheDamaged) {
				return withExitCode(damagedCache(err, "move it away"), ExitError)
			}
			if err != nil {
				return withExitCode(fmt.Errorf("%s: %w", args[0], err), ExitError)
			}
			_, err = fmt.Fprintf(env.Stdout, "imported %d calls from %s\n", n, args[0])
			return err
		},
	}, &cobra.Command{
		Use:   "stats",
		Short: "Print where the cache is and how many calls it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := open(true)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			defer c.Close()
			n, err := c.Len(cmd.Context())
			if err != nil {
				return withExitCode(damagedCache(err, "move it away"), ExitError)
			}
			_, err = fmt.Fprintf(env.Stdout, "%s: %d calls\n", c.Path(), n)
			return err
		},
	})
	return cmd
}
