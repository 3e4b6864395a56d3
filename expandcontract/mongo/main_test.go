package mongo_test

import (
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

func TestMain(m *testing.M) { env.Main(m) }
