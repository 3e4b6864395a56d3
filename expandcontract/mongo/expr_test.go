package mongo

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"gopkg.in/yaml.v3"
)

func yamlExpr(t *testing.T, src string) any {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	v, err := nodeValue(&n)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEval(t *testing.T) {
	doc, _ := bson.Marshal(bson.D{{Key: "amount", Value: "12.345"}, {Key: "cents", Value: int32(1234)}, {Key: "qty", Value: int64(3)},
		{Key: "name", Value: "Ada"}, {Key: "nul", Value: nil}, {Key: "sub", Value: bson.D{{Key: "x", Value: 2.5}}}})
	for _, tc := range []struct{ expr, want string }{
		{`{$toInt: {$round: [{$multiply: [{$toDouble: "$amount"}, 100]}, 0]}}`, "int32 1234"},
		{`{$toInt: {$round: [{$multiply: [{$toDecimal: "$amount"}, 100]}, 0]}}`, "int32 1234"},
		{`{$toString: {$divide: ["$cents", 100]}}`, "string 12.34"},
		{`{$toString: {$divide: [{$toDecimal: "$cents"}, 100]}}`, "string 12.34"},
		{`{$round: [2.5, 0]}`, "float64 2"},
		{`{$round: [3.5, 0]}`, "float64 4"},
		{`{$trunc: [-2.7, 0]}`, "float64 -2"},
		{`{$add: ["$cents", 1]}`, "int32 1235"},
		{`{$add: ["$cents", "$qty"]}`, "int64 1237"},
		{`{$multiply: [2147483647, 2]}`, "int64 4294967294"},
		{`{$concat: ["$name", "!"]}`, "string Ada!"},
		{`{$concat: ["$name", "$missing"]}`, "<nil> <nil>"},
		{`{$ifNull: ["$nul", "$missing", "x"]}`, "string x"},
		{`{$cond: {if: {$gt: ["$cents", 1000]}, then: big, else: small}}`, "string big"},
		{`{$cond: [{$eq: ["$name", "Bob"]}, 1, 0]}`, "int32 0"},
		{`{$convert: {input: "abc", to: int, onError: -1}}`, "int32 -1"},
		{`{$convert: {input: "$missing", to: int, onNull: 0}}`, "int32 0"},
		{`{$toLower: "$name"}`, "string ada"},
		{`"$sub.x"`, "float64 2.5"},
		{`{$literal: "$name"}`, "string $name"},
		{`{$toBool: 0}`, "bool false"},
		{`{$toLong: "42"}`, "int64 42"},
	} {
		got, err := eval(yamlExpr(t, tc.expr), doc)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if s := fmt.Sprintf("%T %v", got, got); s != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, s, tc.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	doc, _ := bson.Marshal(bson.D{{Key: "s", Value: "abc"}})
	for _, expr := range []string{`{$toInt: "$s"}`, `{$divide: [1, 0]}`, `{$add: ["$s", 1]}`, `{$toInt: 3000000000}`} {
		if _, err := eval(yamlExpr(t, expr), doc); err == nil {
			t.Errorf("%s: no error", expr)
		}
	}
}

func TestCheckExprRejectsUnsupported(t *testing.T) {
	for _, expr := range []string{`{$dateToString: {date: "$d"}}`, `"$$NOW"`, `{$add: [{$sqrt: 4}, 1]}`} {
		if err := checkExpr(yamlExpr(t, expr)); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%s: %v", expr, err)
		}
	}
	if err := checkExpr(yamlExpr(t, `{$literal: {$anything: 1}}`)); err != nil {
		t.Errorf("$literal content checked: %v", err)
	}
}
