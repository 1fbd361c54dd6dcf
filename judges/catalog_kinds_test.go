package judges

// The tests of each group of judge types build catalogs of that group
// alone from the one registration table.

// registerKinds adds to c the built-in types of the given kinds.
func registerKinds(c Catalog, kinds ...Kind) {
	for _, f := range Builtin() {
		for _, k := range kinds {
			if f.Kind == k {
				c.Register(f)
			}
		}
	}
	if _, ok := c["panel"]; ok {
		c.Register(panelFactory(c)) // members from c itself
	}
}

// registerMore adds the string, structure, task, run, meaning and custom
// types but equals, contains, regex, json_valid and numeric_match.
func registerMore(c Catalog) {
	registerKinds(c, KindString, KindStructure, KindTask, KindRun, KindMeaning, KindCustom)
	for _, t := range []string{"equals", "contains", "regex", "json_valid", "numeric_match"} {
		delete(c, t)
	}
}

// registerOverlap adds the overlap types.
func registerOverlap(c Catalog) { registerKinds(c, KindOverlap) }

// registerLLM adds the LLM types.
func registerLLM(c Catalog) { registerKinds(c, KindLLM) }
