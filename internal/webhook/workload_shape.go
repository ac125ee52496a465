// Package webhook holds the admission webhooks: the checks the API server's schema cannot
// express.
package webhook

import (
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// stringOrListFields are the Workload fields that take a string or a list of strings. The
// CRD schema leaves them untyped (it cannot say "string or list"), so they are checked here.
var stringOrListFields = []struct {
	path    []string
	product bool
}{
	{path: []string{"spec", "selectors", "gpu", "product_name"}, product: true},
	{path: []string{"spec", "selectors", "cpu", "product_name"}, product: true},
	{path: []string{"spec", "config", "cmd"}},
}

// ValidateWorkloadShapes checks a Workload as JSON for what its schema cannot: that
// product_name and cmd are strings or lists of strings, and that a product list does not mix
// All with model names.
func ValidateWorkloadShapes(raw []byte) field.ErrorList {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return field.ErrorList{field.Invalid(field.NewPath(""), "", fmt.Sprintf("not a JSON object: %v", err))}
	}
	var errs field.ErrorList
	for _, f := range stringOrListFields {
		value, ok := lookup(obj, f.path)
		if !ok || value == nil {
			continue
		}
		path := field.NewPath(f.path[0], f.path[1:]...)
		errs = append(errs, validateStringOrList(path, value, f.product)...)
	}
	return errs
}

// Bounds of the string-or-list fields, which the schema cannot give (they are schemaless):
// a product name as NVML names a GPU, and a command line's arguments.
const (
	maxProducts     = 16
	maxProductBytes = 96
	maxArgs         = 1024
	maxArgBytes     = 8192
	maxCommandBytes = 65536
)

func validateStringOrList(path *field.Path, value any, product bool) field.ErrorList {
	maxItems, maxBytes, what := maxArgs, maxArgBytes, "an argument"
	if product {
		maxItems, maxBytes, what = maxProducts, maxProductBytes, "a product name"
	}
	switch v := value.(type) {
	case string:
		if product && v == "" {
			return field.ErrorList{field.Invalid(path, v, "must name a model, or be All for any model")}
		}
		if limit := map[bool]int{true: maxProductBytes, false: maxCommandBytes}[product]; len(v) > limit {
			return field.ErrorList{field.TooLong(path, "", limit)}
		}
		return nil
	case []any:
		if len(v) > maxItems {
			return field.ErrorList{field.TooMany(path, len(v), maxItems)}
		}
		var errs field.ErrorList
		names := make([]string, 0, len(v))
		for i, item := range v {
			if s, ok := item.(string); ok && len(s) > maxBytes {
				errs = append(errs, field.Invalid(path.Index(i), fmt.Sprintf("%d bytes", len(s)), fmt.Sprintf("%s may be at most %d bytes long", what, maxBytes)))
				continue
			}
			s, ok := item.(string)
			if !ok {
				errs = append(errs, field.Invalid(path.Index(i), item, fmt.Sprintf("must be a string; write %s as a list of strings, such as [\"Tesla V100-SXM2-16GB\"]", path.String())))
				continue
			}
			if product && s == "" {
				errs = append(errs, field.Invalid(path.Index(i), s, "must name a model"))
			}
			names = append(names, s)
		}
		if product && len(names) > 1 && slices.Contains(names, doradev1.All) {
			errs = append(errs, field.Invalid(path, names, "All already means any model: give All alone, or only the model names"))
		}
		return errs
	default:
		return field.ErrorList{field.Invalid(path, value, "must be a string or a list of strings")}
	}
}

// lookup follows path through nested JSON objects.
func lookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, key := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}
