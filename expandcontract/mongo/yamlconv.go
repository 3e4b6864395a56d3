package mongo

import (
	"fmt"
	"math"
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	"gopkg.in/yaml.v3"
)

// nodeValue converts a YAML node into a bson value: maps to bson.D (key
// order kept), lists to bson.A, integers to int32 (int64 when too large),
// floats to float64.
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return nodeValue(n.Content[0])
		}
	case yaml.MappingNode:
		d := bson.D{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			d = append(d, bson.E{Key: n.Content[i].Value, Value: v})
		}
		return d, nil
	case yaml.SequenceNode:
		a := bson.A{}
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", nil
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: integer %q: %v", n.Line, n.Value, err)
		}
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			return int32(i), nil
		}
		return i, nil
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: number %q: %v", n.Line, n.Value, err)
		}
		return f, nil
	default:
		return n.Value, nil
	}
}

// bsonLiteral wraps a value so that it is not evaluated as an expression.
func bsonLiteral(v any) any { return bson.D{{Key: "$literal", Value: v}} }
