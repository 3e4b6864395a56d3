package expandcontract

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// viewsSQL completes the plan's views with what raw sql added (tables and
// columns the snapshot did not know) and renders the statements.
func (c *coordinator) viewsSQL(ctx context.Context, tx pgx.Tx, spec *ViewsSpec) ([]string, error) {
	live, err := LoadSnapshot(ctx, tx, spec.Schema)
	if err != nil {
		return nil, err
	}
	full := *spec
	full.Tables = nil
	known := map[string]bool{}
	for _, k := range spec.Known {
		known[k] = true
	}
	for _, vt := range spec.Tables {
		lt := live.Tables[vt.Physical]
		if lt == nil {
			full.Tables = append(full.Tables, vt)
			continue
		}
		seen := map[string]bool{}
		for _, c := range vt.Columns {
			seen[c[1]] = true
		}
		for _, h := range vt.Hidden {
			seen[h] = true
		}
		for _, lc := range lt.Columns {
			if !seen[lc.Name] && !strings.HasPrefix(lc.Name, "_tm_") {
				vt.Columns = append(vt.Columns, [2]string{lc.Name, lc.Name})
			}
		}
		full.Tables = append(full.Tables, vt)
	}
	for name, lt := range live.Tables {
		if known[name] {
			continue
		}
		vt := ViewTable{Name: name, Physical: name}
		for _, lc := range lt.Columns {
			if !strings.HasPrefix(lc.Name, "_tm_") {
				vt.Columns = append(vt.Columns, [2]string{lc.Name, lc.Name})
			}
		}
		full.Tables = append(full.Tables, vt)
	}
	return ViewsSQL(c.d, &full), nil
}
