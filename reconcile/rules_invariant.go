package reconcile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) parseInvariant(n *yaml.Node, rules *Rules) *Invariant {
	m := p.mapping(n, "invariant", "name", "match", "exists", "not_exists", "aggregate", "fixups")
	inv := &Invariant{Name: p.str(p.required(m, n, "invariant", "name"), "name"), Line: n.Line}
	what := fmt.Sprintf("invariant %q", inv.Name)
	var body *yaml.Node
	for _, k := range []Kind{KindMatch, KindExists, KindNotExists, KindAggregate} {
		if b := m[string(k)]; b != nil {
			if body != nil {
				p.errf(b, "%s: one of match, exists, not_exists or aggregate, not several", what)
				return nil
			}
			inv.Kind, body = k, b
		}
	}
	if body == nil {
		p.errf(n, "%s: want one of match, exists, not_exists or aggregate", what)
		return nil
	}
	switch inv.Kind {
	case KindMatch:
		bm := p.mapping(body, what, "left", "right", "fields")
		inv.Left = p.parseSide(p.required(bm, body, what, "left"), rules, what+": left", false)
		inv.Right = p.parseSide(p.required(bm, body, what, "right"), rules, what+": right", false)
		for _, f := range contentOf(bm["fields"]) {
			inv.Fields = append(inv.Fields, p.parseField(f, what))
		}
	case KindExists, KindNotExists:
		bm := p.mapping(body, what, "left", "right")
		inv.Left = p.parseSide(p.required(bm, body, what, "left"), rules, what+": left", false)
		inv.Right = p.parseSide(p.required(bm, body, what, "right"), rules, what+": right", false)
	case KindAggregate:
		p.parseAggregate(body, inv, rules, what)
	}
	p.checkKeys(body, inv, what)
	inv.Fixups = p.parseFixups(m["fixups"], inv, rules, what)
	return inv
}

func (p *parser) parseAggregate(body *yaml.Node, inv *Invariant, rules *Rules, what string) {
	bm := p.mapping(body, what, "left", "right", "type", "scale", "tolerance", "left_unit", "right_unit")
	inv.Left = p.parseSide(p.required(bm, body, what, "left"), rules, what+": left", true)
	inv.Right = p.parseSide(p.required(bm, body, what, "right"), rules, what+": right", true)
	if inv.Left.Field == "" {
		p.errf(body, "%s: left needs field: the column compared with the aggregate", what)
	}
	if (inv.Right.Sum == "") == !inv.Right.Count {
		p.errf(body, "%s: right needs sum: COLUMN or count: true", what)
	}
	f := &Field{Name: "value", Left: inv.Left.Field, Right: inv.Right.Sum, Type: FieldInt, Scale: -1}
	if inv.Right.Count {
		f.Right = "count"
	}
	p.fieldOptions(bm, f, what)
	if f.Type != FieldInt && f.Type != FieldDecimal && f.Type != FieldMoney {
		p.errf(bm["type"], "%s: type: an aggregate compares int, decimal or money", what)
	}
	inv.Fields = []*Field{f}
}

func (p *parser) parseSide(n *yaml.Node, rules *Rules, what string, agg bool) Side {
	var side Side
	if n == nil {
		return side
	}
	var name string
	var m map[string]*yaml.Node
	if n.Kind == yaml.ScalarNode {
		name = p.str(n, what)
	} else {
		allowed := []string{"source", "where"}
		if agg {
			allowed = append(allowed, "field", "sum", "count")
		}
		m = p.mapping(n, what, allowed...)
		name = p.str(p.required(m, n, what, "source"), what)
		side.Where = p.parseWhere(m["where"], what)
		side.Field = p.str(m["field"], what+": field")
		side.Sum = p.str(m["sum"], what+": sum")
		if c := m["count"]; c != nil {
			side.Count = p.boolean(c, what+": count")
		}
	}
	if side.Source = rules.Source(name); side.Source == nil && name != "" {
		p.errf(n, "%s: unknown source %q", what, name)
	}
	return side
}

func (p *parser) parseWhere(n *yaml.Node, what string) []Condition {
	var out []Condition
	for _, k := range orderedKeys(n) {
		vals := p.list(valueOf(n, k.Value), what+": where "+k.Value)
		out = append(out, Condition{Column: k.Value, Values: vals})
	}
	if n != nil && n.Kind != yaml.MappingNode {
		p.errf(n, "%s: where: want a mapping column: value (or [values])", what)
	}
	return out
}

func (p *parser) checkKeys(n *yaml.Node, inv *Invariant, what string) {
	l, r := inv.Left.Source, inv.Right.Source
	if l == nil || r == nil {
		return
	}
	if len(l.Key) != len(r.Key) {
		p.errf(n, "%s: sources %q and %q have keys of different length (%d and %d columns)", what, l.Name, r.Name, len(l.Key), len(r.Key))
		return
	}
	for i := range l.Key {
		if l.Key[i].Type != r.Key[i].Type {
			p.errf(n, "%s: key column %d is %s in %q but %s in %q", what, i+1, l.Key[i].Type, l.Name, r.Key[i].Type, r.Name)
		}
	}
}

var fieldKeys = []string{"name", "left", "right", "type", "scale", "left_unit", "right_unit", "tolerance", "precision", "timezone", "case", "trim", "nulls"}

func (p *parser) parseField(n *yaml.Node, what string) *Field {
	f := &Field{Type: FieldText, Scale: -1}
	if n.Kind == yaml.ScalarNode {
		f.Name = p.str(n, what+": field")
		f.Left, f.Right = f.Name, f.Name
		return f
	}
	m := p.mapping(n, what+": field", fieldKeys...)
	f.Name = p.str(m["name"], what+": field name")
	f.Left, f.Right = p.str(m["left"], what+": left"), p.str(m["right"], what+": right")
	if f.Name == "" {
		f.Name = f.Left
	}
	if f.Left == "" {
		f.Left = f.Name
	}
	if f.Right == "" {
		f.Right = f.Name
	}
	if f.Name == "" {
		p.errf(n, "%s: a field needs name (or left and right)", what)
	}
	p.fieldOptions(m, f, fmt.Sprintf("%s: field %q", what, f.Name))
	return f
}

func (p *parser) fieldOptions(m map[string]*yaml.Node, f *Field, what string) {
	if t := m["type"]; t != nil {
		f.Type = FieldType(p.str(t, what+": type"))
		switch f.Type {
		case FieldInt, FieldDecimal, FieldMoney, FieldText, FieldUUID, FieldTimestamp, FieldBool:
		default:
			p.errf(t, "%s: unknown type %q (want int, decimal, money, text, uuid, timestamp or bool)", what, f.Type)
		}
	}
	if s := m["scale"]; s != nil {
		f.Scale = p.integer(s, what+": scale")
	}
	if f.Scale < 0 {
		f.Scale = map[FieldType]int{FieldDecimal: 6, FieldMoney: 2}[f.Type]
	}
	f.LeftUnit, f.RightUnit = p.unit(m["left_unit"], what), p.unit(m["right_unit"], what)
	if (m["left_unit"] != nil || m["right_unit"] != nil) && f.Type != FieldMoney {
		p.errf(m["type"], "%s: left_unit/right_unit apply to type money", what)
	}
	p.tolerance(m["tolerance"], f, what)
	if pr := m["precision"]; pr != nil {
		f.Precision = map[string]time.Duration{"s": time.Second, "ms": time.Millisecond, "us": time.Microsecond}[p.str(pr, what)]
		if f.Precision == 0 {
			p.errf(pr, "%s: precision: want s, ms or us", what)
		}
	}
	if f.Precision == 0 {
		f.Precision = time.Microsecond
	}
	f.TimeZone = time.UTC
	if tz := m["timezone"]; tz != nil {
		loc, err := time.LoadLocation(p.str(tz, what))
		if err != nil {
			p.errf(tz, "%s: timezone: %v", what, err)
		} else {
			f.TimeZone = loc
		}
	}
	if c := m["case"]; c != nil {
		switch p.str(c, what) {
		case "insensitive":
			f.IgnoreCase = true
		case "sensitive":
		default:
			p.errf(c, "%s: case: want sensitive or insensitive", what)
		}
	}
	if t := m["trim"]; t != nil {
		f.Trim = p.boolean(t, what+": trim")
	}
	if nl := m["nulls"]; nl != nil {
		switch p.str(nl, what) {
		case "distinct":
			f.NullsDistinct = true
		case "equal":
		default:
			p.errf(nl, "%s: nulls: want equal (NULL = missing field, the default) or distinct", what)
		}
	}
}

func (p *parser) unit(n *yaml.Node, what string) string {
	if n == nil {
		return "minor"
	}
	u := p.str(n, what)
	if u != "minor" && u != "major" {
		p.errf(n, "%s: unit: want minor (integer cents) or major (decimal amount)", what)
	}
	return u
}

func (p *parser) tolerance(n *yaml.Node, f *Field, what string) {
	if n == nil {
		return
	}
	s := p.str(n, what+": tolerance")
	if f.Type == FieldTimestamp {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			p.errf(n, "%s: tolerance: want a duration like 1s or 500ms", what)
		}
		f.TimeTol = d
		return
	}
	if f.Type != FieldInt && f.Type != FieldDecimal && f.Type != FieldMoney {
		p.errf(n, "%s: tolerance applies to numbers and timestamps", what)
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 {
		p.errf(n, "%s: tolerance: want a non-negative number", what)
	}
	f.Tolerance = v
}
