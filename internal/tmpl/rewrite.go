package tmpl

import (
	"strconv"

	"text/template/parse"
)

// rewrite makes a parsed tree strict about nil values: every action that
// prints gets guard as its last command, and the field chains given to
// default and coalesce (as arguments or piped into them) become calls of
// optional, so that a missing field reaches them as nil.
func rewrite(t *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			rewrite(t, c)
		}
	case *parse.ActionNode:
		rewritePipe(t, n.Pipe)
		if len(n.Pipe.Decl) == 0 && !neverNil(n.Pipe) {
			expr := n.Pipe.String()
			if len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 {
				expr = n.Pipe.Cmds[0].Args[0].String()
			}
			pos := n.Pipe.Position()
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{
				parse.NewIdentifier(guardFunc).SetTree(t).SetPos(pos),
				&parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(expr), Text: expr},
			}})
		}
	case *parse.IfNode:
		rewriteBranch(t, &n.BranchNode)
	case *parse.RangeNode:
		rewriteBranch(t, &n.BranchNode)
	case *parse.WithNode:
		rewriteBranch(t, &n.BranchNode)
	case *parse.TemplateNode:
		rewritePipe(t, n.Pipe)
	}
}

// nonNilFuncs are the template functions whose result is never nil
// (strings, numbers, booleans): printing them needs no guard.
var nonNilFuncs = map[string]bool{
	"print": true, "printf": true, "println": true, "html": true, "js": true, "urlquery": true, "len": true,
	"not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
	"json": true, "trim": true, "upper": true, "lower": true, "join": true,
}

// neverNil reports whether pipeline p ends in a function whose result is
// never nil.
func neverNil(p *parse.PipeNode) bool {
	if len(p.Cmds) == 0 {
		return false
	}
	last := p.Cmds[len(p.Cmds)-1]
	if len(last.Args) == 0 {
		return false
	}
	id, ok := last.Args[0].(*parse.IdentifierNode)
	return ok && nonNilFuncs[id.Ident]
}

func rewriteBranch(t *parse.Tree, b *parse.BranchNode) {
	rewritePipe(t, b.Pipe)
	rewrite(t, b.List)
	rewrite(t, b.ElseList)
}

func isDefaulting(c *parse.CommandNode) bool {
	if len(c.Args) == 0 {
		return false
	}
	id, ok := c.Args[0].(*parse.IdentifierNode)
	return ok && (id.Ident == "default" || id.Ident == "coalesce")
}

func rewritePipe(t *parse.Tree, p *parse.PipeNode) {
	if p == nil {
		return
	}
	for i, c := range p.Cmds {
		for _, a := range c.Args {
			if sub, ok := a.(*parse.PipeNode); ok {
				rewritePipe(t, sub)
			}
		}
		if isDefaulting(c) {
			for j := 1; j < len(c.Args); j++ {
				if o := optionalCall(t, c.Args[j]); o != nil {
					c.Args[j] = &parse.PipeNode{NodeType: parse.NodePipe, Pos: c.Args[j].Position(), Cmds: []*parse.CommandNode{o}}
				}
			}
		}
		if i+1 < len(p.Cmds) && isDefaulting(p.Cmds[i+1]) && len(c.Args) == 1 {
			if o := optionalCall(t, c.Args[0]); o != nil {
				c.Args = o.Args
			}
		}
	}
}

// optionalCall returns the command calling optional that reads the field
// chain n, or nil when n is not a field chain.
func optionalCall(t *parse.Tree, n parse.Node) *parse.CommandNode {
	pos := n.Position()
	var recv parse.Node
	var fields []string
	switch n := n.(type) {
	case *parse.FieldNode:
		recv, fields = &parse.DotNode{NodeType: parse.NodeDot, Pos: pos}, n.Ident
	case *parse.VariableNode:
		if len(n.Ident) < 2 {
			return nil
		}
		recv, fields = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: n.Ident[:1]}, n.Ident[1:]
	case *parse.ChainNode:
		recv, fields = n.Node, n.Field
	default:
		return nil
	}
	args := []parse.Node{parse.NewIdentifier(optFunc).SetTree(t).SetPos(pos), recv}
	for _, f := range fields {
		args = append(args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(f), Text: f})
	}
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: args}
}
