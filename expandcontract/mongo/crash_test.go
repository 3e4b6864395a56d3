package mongo_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	ecmongo "github.com/tidemark/tidemark/expandcontract/mongo"
	"github.com/tidemark/tidemark/fixtures/env"
)

const crashFile = changeFieldFile + `  - create_index: {collection: payments, name: payments_cents, keys: {amount_cents: 1}}
`

// TestCrashResume kills a child process running expand, contract or
// rollback with SIGKILL at a named point, runs the same command again, and
// checks the documents: none lost, none duplicated, every one right.
func TestCrashResume(t *testing.T) {
	points := map[string][]string{
		"expand": {
			"expanding:validator:payments:before", "expanding:validator:payments:after",
			"expanding:index:payments_cents:after", "expand:sync-0:batch:1:written",
			"expand:sync-0:batch:3:saved", "expand:sync-0:batch:5:written",
			"expand:sync-0:batch:12:saved", "expanding:sync-0:after", "expanded:amount_cents",
		},
		"contract": {
			"contracting:converge:sync-0:before", "contract:sync-0:batch:2:written", "contracting:unset:0:before",
			"contracting:unset:0:after", "contracting:validator:payments:before", "contracted:amount_cents",
		},
		"rollback": {
			"rollback:sync-0:batch:1:written", "rollback:sync-0:batch:2:saved", "rolling_back:unset:0:after",
			"rolling_back:drop-index:payments_cents:after", "rolling_back:validator:payments:before", "rolled_back:amount_cents",
		},
	}
	for _, cmd := range []string{"expand", "contract", "rollback"} {
		for _, at := range points[cmd] {
			t.Run(cmd+"@"+at, func(t *testing.T) { crashAndResume(t, cmd, at) })
		}
	}
}

func crashAndResume(t *testing.T, cmd, at string) {
	u := env.MongoDB(t)
	d := connect(t, u)
	orig := seedCrash(d)
	mig := parse(t, "m.yaml", crashFile)
	if cmd != "expand" {
		d.expand(mig)
		// documents written in each shape after expand, for the final passes
		for i := 0; i < 6; i++ {
			d.insert("payments", bson.D{{Key: "_id", Value: 1000 + i}, {Key: "amount", Value: "2.5"}})
			d.insert("payments", bson.D{{Key: "_id", Value: 2000 + i}, {Key: "amount_cents", Value: 375}})
		}
	}
	child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	child.Env = append(os.Environ(), "TM_CRASH_URL="+u, "TM_CRASH_CMD="+cmd, "TM_CRASH_AT="+at)
	out, err := child.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed at %s: %v\n%s", at, err, out)
	}
	switch cmd {
	case "expand":
		d.expand(mig)
		checkConsistent(t, d)
		sameDocs(t, project(d.docs("payments"), "_id", "amount"), orig)
		wantIndex(t, d, "payments", "payments_cents", true)
	case "contract":
		d.contract()
		for _, doc := range d.docs("payments") {
			m := doc.Map()
			if len(doc) != 2 || m["amount_cents"] == nil {
				t.Errorf("after contract: %v", doc)
			}
		}
		wantField(t, d, "payments", 1000, "amount_cents", int32(250))
		wantField(t, d, "payments", 7, "amount_cents", int32(7*101))
	case "rollback":
		d.rollback()
		all := d.docs("payments")
		noStamps(t, all)
		sameDocs(t, all[:len(orig)], orig)
		wantField(t, d, "payments", 2003, "amount", "3.75")
		wantNoField(t, d, "payments", 2003, "amount_cents")
		wantIndex(t, d, "payments", "payments_cents", false)
	}
	if n := len(d.docs("payments")); n != len(orig)+map[bool]int{true: 0, false: 12}[cmd == "expand"] {
		t.Errorf("%d documents after resume", n)
	}
	st, err := ecmongo.Status(d.ctx, d.client, d.name)
	if err != nil || len(st.Migrations) != 1 || st.Migrations[0].InFlight != (cmd == "expand") {
		t.Errorf("status after resume: %+v %v", st, err)
	}
}

// seedCrash writes 40 old-shape documents (amount = _id * 1.01).
func seedCrash(d *testDB) []bson.D {
	var docs []bson.D
	for i := 1; i <= 40; i++ {
		doc := bson.D{{Key: "_id", Value: int32(i)}, {Key: "amount", Value: fmt.Sprintf("%d.%02d", i*101/100, i*101%100)}}
		d.insert("payments", doc)
		docs = append(docs, doc)
	}
	return docs
}

func project(docs []bson.D, keys ...string) []bson.D {
	var out []bson.D
	for _, doc := range docs {
		var p bson.D
		for _, e := range doc {
			for _, k := range keys {
				if e.Key == k {
					p = append(p, e)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// TestCrashChild is the child of TestCrashResume: it runs one command with a
// hook that SIGKILLs this process at TM_CRASH_AT.
func TestCrashChild(t *testing.T) {
	u := os.Getenv("TM_CRASH_URL")
	if u == "" {
		t.Skip("child process of TestCrashResume only")
	}
	d := connect(t, u)
	opts := d.opts()
	opts.BatchSize = 5
	opts.Hook = func(p string) {
		if p == os.Getenv("TM_CRASH_AT") {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	var err error
	switch os.Getenv("TM_CRASH_CMD") {
	case "expand":
		_, err = ecmongo.Expand(d.ctx, d.client, d.name, []*ecmongo.Migration{parse(t, "m.yaml", crashFile)}, opts)
	case "contract":
		_, err = ecmongo.Contract(d.ctx, d.client, d.name, opts)
	case "rollback":
		_, err = ecmongo.Rollback(d.ctx, d.client, d.name, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
}
