package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// expandValidator records the collection's validator (before any change)
// and applies one that accepts both shapes.
func (r *run) expandValidator(ctx context.Context, s *migState, coll string) error {
	rec := s.validator(coll)
	if rec == nil {
		orig, _, err := r.currentValidator(ctx, coll)
		if err != nil {
			return err
		}
		rec = &validatorRecord{Collection: coll, Original: extJSON(orig)}
		s.Validators = append(s.Validators, rec)
		if err := r.saveRenew(ctx, s); err != nil {
			return err
		}
	}
	v, ok := bothShapes(fromExtJSON(rec.Original), s.Migration.opsOn(coll), s.Name)
	if !ok {
		s.warn(fmt.Sprintf("%s: validator is not a pure $jsonSchema; left unchanged", coll))
		return nil
	}
	return r.applyValidator(ctx, s, rec, v, "moderate")
}

// contractValidator requires the new shape.
func (r *run) contractValidator(ctx context.Context, s *migState, coll string) error {
	rec := s.validator(coll)
	if rec == nil {
		return nil
	}
	base := rec.Applied
	if len(base) == 0 {
		base = rec.Original
	}
	v, ok := tightened(fromExtJSON(base), s.Migration.opsOn(coll), s.Name)
	if !ok {
		return nil
	}
	return r.applyValidator(ctx, s, rec, v, "strict")
}

// rollbackValidator restores the validator recorded before expand.
func (r *run) rollbackValidator(ctx context.Context, s *migState, coll string) error {
	rec := s.validator(coll)
	if rec == nil {
		return nil
	}
	var v bson.D
	if len(rec.Original) > 0 {
		if err := bson.UnmarshalExtJSON([]byte(rec.Original), true, &v); err != nil {
			return fmt.Errorf("recorded validator of %s: %w", coll, err)
		}
	}
	return r.applyValidator(ctx, s, rec, v, "strict")
}

// applyValidator runs collMod. Servers without collMod (FerretDB v1.24
// answers NotImplemented) keep the validator in tidemark's state only: it is
// recorded, reported as not enforced, and applied on servers that have it.
func (r *run) applyValidator(ctx context.Context, s *migState, rec *validatorRecord, v bson.D, level string) error {
	if v == nil {
		v = bson.D{}
	}
	rec.Applied = extJSON(v)
	cmd := bson.D{{Key: "collMod", Value: rec.Collection}, {Key: "validator", Value: v}, {Key: "validationLevel", Value: level}}
	err := r.db().RunCommand(ctx, cmd).Err()
	if isCode(err, codeNamespaceNotFound) {
		return r.saveRenew(ctx, s)
	}
	switch {
	case isCode(err, codeNotImplemented, codeCommandNotFound):
		rec.Enforced = false
		s.warn(fmt.Sprintf("%s: %v (collMod is not implemented)", rec.Collection, ErrValidatorNotEnforced))
		r.opts.Logger.Warn("validator recorded, not enforced: the server has no collMod", "collection", rec.Collection)
	case err != nil:
		return fmt.Errorf("set validator of %s: %w", rec.Collection, err)
	default:
		rec.Enforced = true
	}
	return r.saveRenew(ctx, s)
}

// extJSON encodes a validator as canonical extended JSON ("" for none).
func extJSON(v any) string {
	if v == nil {
		return ""
	}
	if r, ok := v.(bson.Raw); ok && len(r) == 0 {
		return ""
	}
	b, err := bson.MarshalExtJSON(v, true, false)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromExtJSON(s string) bson.Raw {
	if s == "" {
		return nil
	}
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), true, &r); err != nil {
		return nil
	}
	return r
}
