package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gavel-eval/gavel/eval/results"
)

// reportFormats are the values of --format on the commands that report.
var reportFormats = []string{"text", "markdown", "json", "junit", "html"}

// registerCompletions adds dynamic completion to the flags of every
// command under root that has none yet: --format values, --cache modes,
// the variant names of the run named on the command line for --a, --b
// and --variant, and its judge names for the gate flags.
func registerCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok {
				return
			}
			var fn cobra.CompletionFunc
			switch f.Name {
			case "format":
				values := []string{"text", "json"}
				if strings.Contains(f.Usage, "markdown") {
					values = reportFormats
				}
				fn = fixed(values...)
			case "cache":
				fn = fixed("rw", "ro", "off", "replay")
			case "a", "b", "variant":
				if c.Name() == "compare" {
					fn = runNames(func(m *results.Manifest) []string {
						var out []string
						for _, v := range m.Variants {
							out = append(out, v.Name)
						}
						return out
					})
				}
			case "min-pass-rate", "min-mean", "max-drop", "max-error-rate":
				if c.Name() == "compare" || c.Name() == "report" {
					fn = runNames(func(m *results.Manifest) []string {
						var out []string
						for _, j := range m.Judges {
							out = append(out, j.Name+"=")
						}
						return out
					})
				}
			}
			if fn != nil {
				_ = c.RegisterFlagCompletionFunc(f.Name, fn)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// fixed completes a flag with values.
func fixed(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// runNames completes a flag with names read from the manifest of the run
// directory given as the last argument so far (the new run of a
// comparison of two).
func runNames(names func(*results.Manifest) []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		m, err := results.ReadManifest(args[len(args)-1])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range names(m) {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		dir := cobra.ShellCompDirectiveNoFileComp
		if len(out) > 0 && strings.HasSuffix(out[0], "=") {
			dir |= cobra.ShellCompDirectiveNoSpace
		}
		return out, dir
	}
}
