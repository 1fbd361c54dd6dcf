package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/prompts"
)

// schemaKinds are the files gavel schema describes.
var schemaKinds = []string{"spec", "prompt", "config"}

// schemaOf returns the JSON Schema of kind, indented, with a final newline.
func schemaOf(kind string) ([]byte, error) {
	var s map[string]any
	switch kind {
	case "spec":
		s = eval.SpecSchema(nil)
	case "prompt":
		s = prompts.PromptSchema()
	case "config":
		s = prompts.ConfigSchema()
	default:
		return nil, fmt.Errorf("schema: unknown file kind %q (spec, prompt or config)", kind)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// newSchemaCmd is gavel schema. RunE calls runF (printing the schema
// when nil).
func newSchemaCmd(env *Env, runF func(context.Context, *Env, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "schema [spec|prompt|config]",
		Short: "Print the JSON Schema of a spec, a registry prompt file or a model config file",
		Long: `Print the JSON Schema (draft 2020-12) of gavel.yaml (spec, the default), of
a prompt registry file (prompt) or of a model config file (config),
generated from the same rules as gavel's strict decoders. Editors that
read JSON Schema complete and check the files with it: with VS Code's YAML
extension, start a file with

  # yaml-language-server: $schema=PATH/spec.schema.json

The schemas are also committed as docs/spec.schema.json,
docs/prompt.schema.json and docs/config.schema.json.`,
		Example:   "  $ gavel schema > spec.schema.json\n  $ gavel schema prompt",
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: schemaKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := "spec"
			if len(args) == 1 {
				kind = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), env, kind)
			}
			b, err := schemaOf(kind)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			_, err = env.Stdout.Write(b)
			return err
		},
	}
}
