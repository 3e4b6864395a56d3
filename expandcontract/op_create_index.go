package expandcontract

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// OpCreateIndex builds an index CONCURRENTLY (an INVALID leftover of an
// interrupted build is dropped and rebuilt).
type OpCreateIndex struct {
	Name, Table      string
	Columns          []IndexColumn
	Unique           bool
	Method           string
	Predicate        string
	Storage          string
	NullsNotDistinct bool

	physTable string
}

// IndexColumn is one element of create_index.columns (list or map form).
type IndexColumn struct {
	Name, Sort, Nulls, Opclass, Collate string
}

func parseCreateIndex(o *obj) (Operation, error) {
	if err := o.check("create_index", "name", "table", "columns", "unique", "method", "predicate", "storage_parameters", "nulls_not_distinct"); err != nil {
		return nil, err
	}
	op := &OpCreateIndex{}
	var err error
	for _, f := range []struct {
		k string
		p *string
	}{{"method", &op.Method}, {"predicate", &op.Predicate}, {"storage_parameters", &op.Storage}} {
		if *f.p, err = o.str(f.k); err != nil {
			return nil, err
		}
	}
	if op.Name, err = o.need("name", "create_index"); err != nil {
		return nil, err
	}
	if op.Table, err = o.need("table", "create_index"); err != nil {
		return nil, err
	}
	if op.Unique, err = o.boolv("unique"); err != nil {
		return nil, err
	}
	if op.NullsNotDistinct, err = o.boolv("nulls_not_distinct"); err != nil {
		return nil, err
	}
	n, ok := o.keys["columns"]
	if !ok {
		return nil, errAt(o.file, o.node, "create_index: \"columns\" is required")
	}
	op.Columns, err = parseIndexColumns(o.file, n)
	return op, err
}

// parseIndexColumns accepts the v0.14 list of names, the map form
// (name: {sort, nulls, opclass, collate}) and the list of mappings form
// (- column: name, or - name: name, with the same settings).
func parseIndexColumns(file string, n *yaml.Node) ([]IndexColumn, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		var out []IndexColumn
		for _, it := range n.Content {
			switch it.Kind {
			case yaml.ScalarNode:
				out = append(out, IndexColumn{Name: it.Value})
			case yaml.MappingNode:
				ic, err := parseIndexColumnItem(file, it)
				if err != nil {
					return nil, err
				}
				out = append(out, ic)
			default:
				return nil, errAt(file, it, "columns: want column names or mappings")
			}
		}
		return out, nil
	case yaml.MappingNode:
		var out []IndexColumn
		for i := 0; i+1 < len(n.Content); i += 2 {
			ic := IndexColumn{Name: n.Content[i].Value}
			if v := n.Content[i+1]; v.Kind == yaml.MappingNode {
				if err := parseIndexColumnSettings(file, v, &ic, false); err != nil {
					return nil, err
				}
			}
			out = append(out, ic)
		}
		return out, nil
	}
	return nil, errAt(file, n, "columns: want a list or a mapping")
}

func parseIndexColumnItem(file string, n *yaml.Node) (IndexColumn, error) {
	var ic IndexColumn
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "column" || k == "name" {
			ic.Name = n.Content[i+1].Value
		}
	}
	if ic.Name == "" {
		return ic, errAt(file, n, "columns: an entry needs column (or name)")
	}
	return ic, parseIndexColumnSettings(file, n, &ic, true)
}

func parseIndexColumnSettings(file string, n *yaml.Node, ic *IndexColumn, item bool) error {
	o, err := newObj(file, n, "index column")
	if err != nil {
		return err
	}
	keys := []string{"sort", "nulls", "opclass", "collate"}
	if item {
		keys = append(keys, "column", "name")
	}
	if err := o.check("index column "+ic.Name, keys...); err != nil {
		return err
	}
	if ic.Sort, err = o.str("sort"); err != nil {
		return err
	}
	if ic.Nulls, err = o.str("nulls"); err != nil {
		return err
	}
	if ic.Collate, err = o.str("collate"); err != nil {
		return err
	}
	if oc, ok := o.keys["opclass"]; ok && oc.Kind == yaml.MappingNode {
		s, err := newObj(file, oc, "opclass")
		if err != nil {
			return err
		}
		name, _ := s.str("name")
		params, _ := s.strMap("params")
		if len(params) == 0 {
			ps, _ := s.strs("params")
			ic.Opclass = strings.TrimSpace(name + " " + paren(ps))
		} else {
			var kv []string
			for _, p := range params {
				kv = append(kv, p[0]+"="+p[1])
			}
			sort.Strings(kv)
			ic.Opclass = name + " " + paren(kv)
		}
	} else if ic.Opclass, err = o.str("opclass"); err != nil {
		return err
	}
	return nil
}

func paren(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func (op *OpCreateIndex) Kind() string { return "create_index" }

func (op *OpCreateIndex) Start(p *Planner) error {
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	op.physTable = t.Physical
	var el []string
	for _, c := range op.Columns {
		cm := t.col(c.Name)
		var e string
		if cm != nil {
			e = p.D.Quote(cm.Physical)
		} else {
			e = "(" + physicalExpr(t, c.Name) + ")" // an expression
		}
		for _, s := range []string{c.Collate, c.Opclass, strings.ToUpper(c.Sort)} {
			if s != "" {
				e += " " + s
			}
		}
		if c.Nulls != "" {
			e += " NULLS " + strings.ToUpper(strings.TrimPrefix(strings.ToUpper(c.Nulls), "NULLS "))
		}
		el = append(el, e)
	}
	pred := ""
	if op.Predicate != "" {
		pred = physicalExpr(t, op.Predicate)
	}
	sql := p.D.CreateIndex(true, indexSQL{Unique: op.Unique, Schema: p.Schema, Name: op.Name, Table: t.Physical,
		Method: op.Method, Elements: el, Storage: op.Storage, Predicate: pred, NullsNotDistinct: op.NullsNotDistinct})
	p.Expand(Action{ID: "index", NoTx: true, Index: op.Name, SQL: []string{sql}, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true})
	return nil
}

func (op *OpCreateIndex) Complete(*Planner) error { return nil }

func (op *OpCreateIndex) Rollback(p *Planner) error {
	p.Undo(Action{ID: "drop", NoTx: true, SQL: []string{p.D.DropIndex(p.Schema, op.Name)}, Lock: "SHARE UPDATE EXCLUSIVE"})
	return nil
}

// OpDropIndex drops an index (CONCURRENTLY) at contract.
type OpDropIndex struct{ Name string }

func parseDropIndex(o *obj) (Operation, error) {
	if err := o.check("drop_index", "name"); err != nil {
		return nil, err
	}
	n, err := o.need("name", "drop_index")
	return &OpDropIndex{Name: n}, err
}

func (op *OpDropIndex) Kind() string { return "drop_index" }

func (op *OpDropIndex) Start(*Planner) error { return nil }

func (op *OpDropIndex) Complete(p *Planner) error {
	p.Late(Action{ID: "drop", NoTx: true, SQL: []string{p.D.DropIndex(p.Schema, op.Name)}, Lock: "SHARE UPDATE EXCLUSIVE"})
	return nil
}

func (op *OpDropIndex) Rollback(*Planner) error { return nil }
