package mongo

import (
	"encoding/json"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/pitr"
)

func jsonOf(m *pitr.Manifest) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	return string(b), nil
}

func manifestOf(s string) (*pitr.Manifest, error) {
	var m pitr.Manifest
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return &m, nil
}

func sortManifests(ms []*pitr.Manifest) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].CreatedAt.Before(ms[j].CreatedAt) })
}

func mongoIndexOptions(s *mongo.IndexSpecification) *options.IndexOptions {
	o := options.Index().SetName(s.Name)
	if s.Unique != nil {
		o.SetUnique(*s.Unique)
	}
	if s.Sparse != nil {
		o.SetSparse(*s.Sparse)
	}
	return o
}
