package judges

// registerLLM adds the LLM judge types to c, all of Kind "llm". They call
// Env.Model (Build fails when it is nil), with Request.Name the judge type
// until NameCalls names them (a panel names its members' calls after the
// members). The panel type builds its
// members from c itself, so it sees every type registered in c, including
// ones registered after it.
func registerLLM(c Catalog) {
	c.Register(llmFactory("llm_rubric",
		"asks a judge model whether the output satisfies a rubric; reason, pass and score 0..1",
		NewLLMRubric))
	c.Register(llmFactory("closed_qa",
		"OpenAI Evals' closedqa: a judge model reasons, then answers Y or N to whether the output meets a criterion",
		NewClosedQA))
	c.Register(withScale(ScaleOrdinal, llmFactory("factuality",
		"OpenAI Evals' fact: a judge model compares the output with the expected expert answer (A-E, scored 0.5/0.75/1/0/0.75)",
		NewFactuality)))
	c.Register(withScale(ScaleOrdinal, llmFactory("classify",
		"a judge model picks one of your labels for the output; each label has a score",
		NewClassify)))
	c.Register(llmFactory("g_eval",
		"G-Eval: a judge model rates the output 1..max_score following evaluation steps; probability-weighted or sampled score",
		NewGEval))
	c.Register(llmFactory("pairwise",
		"a judge model picks the better of two variants' outputs, asked in both orders (disagreement is a tie)",
		NewPairwise))
	c.Register(Factory{
		Type:        "panel",
		Description: "several judges (e.g. llm_rubric on different models) combined by majority vote or mean score, with their agreement",
		Kind:        "llm",
		NewConfig:   func() any { return new(PanelConfig) },
		Build: func(cfg any, env Env) (Judge, error) {
			pc, err := configAs[PanelConfig]("panel", cfg)
			if err != nil {
				return nil, err
			}
			return NewPanel(pc, env, c)
		},
	})
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

// llmFactory makes the Factory of an LLM judge type, whose constructor
// takes the environment (factory's Build ignores it).
// withScale sets f's Scale and returns f.
func withScale(s Scale, f Factory) Factory {
	f.Scale = s
	return f
}

func llmFactory[C any, J Judge](typ, description string, build func(C, Env) (J, error)) Factory {
	return Factory{
		Type:        typ,
		Description: description,
		Kind:        "llm",
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
