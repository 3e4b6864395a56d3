package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// PlanHash must equal the plan's hash (the one that was reviewed).
	PlanHash string
	// MaxActions refuses a plan with more actions (0: no cap).
	MaxActions int
	// MaxAmount refuses a plan moving more money, in minor units (0: no cap).
	MaxAmount int64
	// StateURL keeps the ledger and audit (default: as for Check).
	StateURL string
	Logger   *slog.Logger
}

// ApplyResult tells what happened to every action.
type ApplyResult struct {
	PlanHash       string          `json:"plan_hash"`
	Actions        int             `json:"actions"`
	Applied        int             `json:"applied"`
	AlreadyApplied int             `json:"already_applied"`
	Stale          int             `json:"stale"`
	Failed         int             `json:"failed"`
	Amount         int64           `json:"amount_minor"`
	AppliedBy      string          `json:"applied_by"`
	Results        []*ActionResult `json:"results"`
}

// ActionResult is one action's outcome: applied, already_applied (in the
// ledger), stale (the rows changed since the plan: not applied) or failed.
type ActionResult struct {
	ID        string `json:"id"`
	Invariant string `json:"invariant"`
	Kind      string `json:"kind"`
	Key       string `json:"key"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Detail    string `json:"detail,omitempty"`
}

// Apply applies exactly plan: refused when its hash is not opts.PlanHash,
// when the rules changed since, or when it exceeds a cap. Each action runs
// only if the rows still have the observed versions, and at most once
// (ledger tidemark.reconcile_ledger); an audit record is written.
func Apply(ctx context.Context, rules *Rules, plan *Plan, opts ApplyOptions) (*ApplyResult, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := checkPlan(rules, plan, opts); err != nil {
		return nil, err
	}
	url, err := stateURL(rules, opts.StateURL)
	if err != nil {
		return nil, err
	}
	if url == "" {
		return nil, errkind.Usagef("apply needs a state database for its ledger: --state-url")
	}
	ap, err := newApplier(ctx, rules, url)
	if err != nil {
		return nil, err
	}
	defer ap.close(context.WithoutCancel(ctx))
	ap.plan = plan.Hash
	res := &ApplyResult{PlanHash: plan.Hash, Actions: len(plan.Actions), AppliedBy: ap.who, Results: []*ActionResult{}}
	started := time.Now()
	for _, a := range plan.Actions {
		r := ap.applyOne(ctx, a)
		opts.Logger.Info("action", "id", a.ID, "invariant", a.Invariant, "kind", a.Kind, "key", a.Key, "status", r.Status, "detail", r.Detail)
		res.Results = append(res.Results, r)
		switch r.Status {
		case "applied":
			res.Applied++
			res.Amount += a.Amount
		case "already_applied":
			res.AlreadyApplied++
		case "stale":
			res.Stale++
		default:
			res.Failed++
		}
	}
	if err := ap.audit(ctx, plan, res, started); err != nil {
		return res, err
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("apply: %d of %d actions failed", res.Failed, res.Actions)
	}
	return res, nil
}

func checkPlan(rules *Rules, plan *Plan, opts ApplyOptions) error {
	got, err := plan.computeHash()
	if err != nil {
		return err
	}
	if opts.PlanHash == "" {
		return errkind.Usagef("--plan-hash is required: apply only the plan you reviewed")
	}
	if got != opts.PlanHash || plan.Hash != opts.PlanHash {
		return errkind.Preconditionf("%w: it hashes to %s, not %s", ErrPlanChanged, got, opts.PlanHash)
	}
	if plan.RulesHash != rules.Hash {
		return errkind.Preconditionf("%w: the rules file changed since the plan was made: make a new plan", ErrPlanChanged)
	}
	var amount int64
	for _, a := range plan.Actions {
		amount += a.Amount
	}
	if opts.MaxActions > 0 && len(plan.Actions) > opts.MaxActions {
		return errkind.Preconditionf("%w: %d actions, --max-actions %d", ErrCapExceeded, len(plan.Actions), opts.MaxActions)
	}
	if opts.MaxAmount > 0 && amount > opts.MaxAmount {
		return errkind.Preconditionf("%w: moves %d (minor units), --max-amount %d", ErrCapExceeded, amount, opts.MaxAmount)
	}
	return nil
}

// applier holds the connections of one Apply.
type applier struct {
	rules   *Rules
	state   *pgxpool.Pool
	dbs     map[string]database
	readers map[string]reader
	invs    map[string]*Invariant
	who     string
	host    string
	plan    string
}

func newApplier(ctx context.Context, rules *Rules, stateURL string) (*applier, error) {
	pool, err := openStatePool(ctx, stateURL)
	if err != nil {
		return nil, err
	}
	dbs, err := openDatabases(ctx, rules, 2)
	if err != nil {
		pool.Close()
		return nil, err
	}
	ap := &applier{rules: rules, state: pool, dbs: dbs, readers: map[string]reader{}, invs: map[string]*Invariant{}}
	for _, s := range rules.Sources {
		ap.readers[s.Name] = dbs[s.Database].Reader(s)
	}
	for _, inv := range rules.Invariants {
		ap.invs[inv.Name] = inv
	}
	ap.host, _ = os.Hostname()
	ap.who = "unknown"
	if u, err := user.Current(); err == nil {
		ap.who = u.Username
	}
	ap.who += "@" + ap.host
	return ap, nil
}

func (ap *applier) close(ctx context.Context) {
	closeAll(ctx, ap.dbs)
	ap.state.Close()
}

func (ap *applier) applyOne(ctx context.Context, a *Action) *ActionResult {
	r := &ActionResult{ID: a.ID, Invariant: a.Invariant, Kind: a.Kind, Key: a.Key, Type: a.Type}
	status, detail, err := ap.run(ctx, a)
	r.Status, r.Detail = status, detail
	if err != nil {
		r.Status, r.Detail = "failed", dburl.Redact(err.Error())
	}
	return r
}

func (ap *applier) run(ctx context.Context, a *Action) (string, string, error) {
	inv := ap.invs[a.Invariant]
	if inv == nil {
		return "", "", fmt.Errorf("no invariant %q in the rules", a.Invariant)
	}
	if ok, why, err := ap.stillObserved(ctx, inv, a); err != nil || !ok {
		return "stale", why, err
	}
	prior, err := ap.claim(ctx, a)
	if err != nil {
		return "", "", err
	}
	if prior == "applied" {
		return "already_applied", "in the ledger", nil
	}
	applied, why, err := ap.execute(ctx, inv, a, prior == "pending")
	if err != nil {
		return "", "", err
	}
	status := "applied"
	if !applied {
		status = "stale"
	}
	if _, err := ap.state.Exec(ctx, `UPDATE tidemark.reconcile_ledger SET status = $2, applied_at = now() WHERE idempotency_key = $1`, a.ID, status); err != nil {
		return "", "", fmt.Errorf("ledger: %w", err)
	}
	return status, why, nil
}

// stillObserved reads the break's rows now: the action may run only if
// their versions are the ones the plan observed.
func (ap *applier) stillObserved(ctx context.Context, inv *Invariant, a *Action) (bool, string, error) {
	already, err := ap.ledgerStatus(ctx, a.ID)
	if err != nil || already == "applied" {
		return true, "", err // reported as already applied by the claim
	}
	f, err := evalNow(ctx, inv, ap.readers, keyValues(inv, a.KeyValues))
	if err != nil {
		return false, "", err
	}
	if f == nil {
		return false, "no longer broken", nil
	}
	b := makeBreak(inv, f.kind, a.KeyValues, f)
	if b.LeftVersion != a.Observed.Left || b.RightVersion != a.Observed.Right {
		return false, "rows changed since the plan", nil
	}
	return true, "", nil
}

// keyValues converts plan key values (JSON) back to canonical key values.
func keyValues(inv *Invariant, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i], _ = keyValue(inv.Left.Source.Key[i].Type, v)
		if u, ok := out[i].([16]byte); ok {
			out[i] = UUID(u).String()
		}
	}
	return out
}

func (ap *applier) ledgerStatus(ctx context.Context, id string) (string, error) {
	var s string
	err := ap.state.QueryRow(ctx, `SELECT status FROM tidemark.reconcile_ledger WHERE idempotency_key = $1`, id).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return s, err
}

// claim records the action as pending in the ledger; it returns the status
// of an existing entry ("applied", "stale" or "pending" from a crash).
func (ap *applier) claim(ctx context.Context, a *Action) (string, error) {
	action, _ := json.Marshal(a)
	tag, err := ap.state.Exec(ctx, `INSERT INTO tidemark.reconcile_ledger(idempotency_key, plan_hash, invariant, kind, key, action, status, applied_by, applied_on)
		VALUES ($1, $8, $2, $3, $4, $5, 'pending', $6, $7) ON CONFLICT DO NOTHING`, a.ID, a.Invariant, a.Kind, a.Key, action, ap.who, ap.host, ap.plan)
	if err != nil {
		return "", fmt.Errorf("ledger: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return "", nil
	}
	s, err := ap.ledgerStatus(ctx, a.ID)
	if s == "stale" {
		s = "pending"
	}
	return s, err
}

func (ap *applier) audit(ctx context.Context, plan *Plan, res *ApplyResult, started time.Time) error {
	_, err := ap.state.Exec(ctx, `INSERT INTO tidemark.reconcile_audit(plan_hash, os_user, host, actions, applied, skipped, stale, amount, result, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, plan.Hash, ap.who, ap.host, res.Actions, res.Applied, res.AlreadyApplied, res.Stale, res.Amount, res, started)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
