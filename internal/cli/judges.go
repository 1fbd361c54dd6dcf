package cli

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/judges"
)

// judgesOptions are what gavel judges's argument says.
type judgesOptions struct {
	typ     string // the judge type to show
	typeSet bool   // a TYPE was given (an empty one is an unknown type)
}

// newJudgesCmd is gavel judges. RunE fills opts, then calls runF
// (runJudges when nil).
func newJudgesCmd(env *Env, runF func(context.Context, *Env, *judgesOptions) error) *cobra.Command {
	opts := &judgesOptions{}
	return &cobra.Command{
		Use:   "judges [TYPE]",
		Short: "List the judge types with their options",
		Long: `Judges lists every judge type: its kind, a one-line description and the
options it takes in the spec (besides name, type and expected, which every
judge takes). With a TYPE, it shows only that type. docs/judges.md documents
each with an example.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.typ, opts.typeSet = args[0], true
			}
			if runF != nil {
				return runF(cmd.Context(), env, opts)
			}
			return runJudges(cmd.Context(), env, opts)
		},
	}
}

// runJudges lists the judge types (or the one opts names).
func runJudges(_ context.Context, env *Env, opts *judgesOptions) error {
	cat := judges.Builtin()
	types := cat.Types()
	if opts.typeSet {
		if _, err := cat.Lookup(opts.typ); err != nil {
			return withExitCode(err, ExitError)
		}
		types = []string{opts.typ}
	}
	sort.SliceStable(types, func(i, j int) bool {
		return kindRank(cat[types[i]].Kind) < kindRank(cat[types[j]].Kind)
	})
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tKIND\tDESCRIPTION")
	for _, t := range types {
		f := cat[t]
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t, f.Kind, f.Description)
		if opts := options(f); opts != "" {
			fmt.Fprintf(tw, "\t\toptions: %s\n", opts)
		}
	}
	return tw.Flush()
}

func kindRank(k judges.Kind) int {
	kinds := judges.Kinds()
	for i, x := range kinds {
		if x == k {
			return i
		}
	}
	return len(kinds)
}

// options describes a judge type's options from its configuration struct.
func options(f judges.Factory) string {
	if f.NewConfig == nil {
		return ""
	}
	t := reflect.TypeOf(f.NewConfig())
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	var parts []string
	for i := 0; i < t.NumField(); i++ {
		fd := t.Field(i)
		name, _, _ := strings.Cut(fd.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !fd.IsExported() {
			continue
		}
		parts = append(parts, name+" ("+typeName(fd.Type)+")")
	}
	return strings.Join(parts, ", ")
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64, reflect.Int32:
		if t.String() == "time.Duration" {
			return "duration"
		}
		return "int"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "mapping"
	case reflect.Interface:
		return "any"
	case reflect.Struct:
		return "mapping"
	}
	return t.String()
}
