package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// createIndex builds an index; an identical existing index is success.
func (r *run) createIndex(ctx context.Context, op Operation) error {
	opts := options.Index().SetName(op.Name)
	if op.Unique {
		opts.SetUnique(true)
	}
	_, err := r.coll(op.Collection).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: op.Keys, Options: opts})
	if err != nil {
		return fmt.Errorf("create index %s on %s: %w", op.Name, op.Collection, err)
	}
	return nil
}

// dropIndex drops an index; a missing index or collection is success.
func (r *run) dropIndex(ctx context.Context, coll, name string) error {
	_, err := r.coll(coll).Indexes().DropOne(ctx, name)
	if err != nil && !isCode(err, codeIndexNotFound, codeNamespaceNotFound) {
		return fmt.Errorf("drop index %s on %s: %w", name, coll, err)
	}
	return nil
}
