package judges

import "fmt"

// configAs returns the configuration a factory's Build received as a C.
// Build accepts what NewConfig returns (*C), a C value, or nil (the zero
// configuration, for library callers with no options to set).
func configAs[C any](typ string, cfg any) (C, error) {
	var zero C
	switch c := cfg.(type) {
	case nil:
		return zero, nil
	case *C:
		if c == nil {
			return zero, nil
		}
		return *c, nil
	case C:
		return c, nil
	}
	return zero, fmt.Errorf("%s: configuration is %T, want *%T", typ, cfg, zero)
}

// factory makes the Factory of a judge type of kind whose options are a C
// and whose constructor is build.
func factory[C any, J Judge](kind Kind, typ, description string, build func(C) (J, error)) Factory {
	return envFactory(kind, typ, description, func(c C, _ Env) (J, error) { return build(c) })
}

// envFactory is factory for judge types whose constructor needs the build
// environment (a judge model, a directory to resolve paths against, an
// embedder, the process environment).
func envFactory[C any, J Judge](kind Kind, typ, description string, build func(C, Env) (J, error)) Factory {
	return Factory{
		Type:        typ,
		Description: description,
		Kind:        kind,
		NewConfig:   func() any { return new(C) },
		Build: func(cfg any, env Env) (Judge, error) {
			c, err := configAs[C](typ, cfg)
			if err != nil {
				return nil, err
			}
			j, err := build(c, env)
			if err != nil {
				return nil, err
			}
			return j, nil
		},
	}
}

// withScale returns f with its Scale set to s.
func (f Factory) withScale(s Scale) Factory {
	f.Scale = s
	return f
}

// NameCalls names the model calls of an LLM judge built from the catalog
// (the Request.Name of its calls, and so its llm spans) after name,
// typically the judge's name in the spec; by default they are named after
// the judge type. It reports whether j is such a judge; for any other
// judge it does nothing.
func NameCalls(j Judge, name string) bool {
	n, ok := j.(llmNamed)
	if ok && name != "" {
		n.setLLMName(name)
	}
	return ok
}
