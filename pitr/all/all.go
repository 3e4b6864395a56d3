// Package all registers every snapshot provider with package pitr:
//
//	import _ "github.com/tidemark/tidemark/pitr/all"
package all

import (
	_ "github.com/tidemark/tidemark/pitr/cockroach"
	_ "github.com/tidemark/tidemark/pitr/mongo"
	_ "github.com/tidemark/tidemark/pitr/postgres"
)
