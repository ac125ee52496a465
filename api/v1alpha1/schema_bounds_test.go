package v1alpha1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// crdDir holds the CRDs controller-gen generates from this package (make manifests).
const crdDir = "../../config/crd/bases"

// boundedFormats are the string formats whose grammar already bounds their length.
var boundedFormats = map[string]bool{"date-time": true, "date": true, "int32": true, "int64": true}

// boundedElsewhere are the fields whose schema node carries no bound of its own, each with
// what bounds it instead. They are matched on "<CRD>:<JSON path>".
var boundedElsewhere = map[string]string{
	// Map values take no markers of their own while their Go type is a plain map; a CEL rule
	// on the map bounds them (MaxProperties bounds the map).
	"resourcecredits.dora.dev:.spec.annotations{}": "the CEL rule on spec.annotations",
	"roles.dora.dev:.spec.permission{}":            "the CEL rule on spec.permission (at most 32 verbs a kind)",
	"roles.dora.dev:.spec.permission{}[]": "only the request size: a verb is a string, which never " +
		"fails to decode; a named list type (MaxItems, items:MaxLength) would bound it, but " +
		"changes RoleSpec.Permission's Go type",
	"zones.dora.dev:.status.workloads{}": "the CEL rule on status.workloads",
}

// conditionFields are metav1.Condition's own fields: apimachinery's type, which this package
// cannot mark. Its observedGeneration is an int64 copied from metadata.generation (which
// always fits), written only by the manager through the status subresource.
var conditionFields = map[string]bool{"observedGeneration": true}

// Every field a tenant can write, and every field the manager writes, is bounded in the
// schema: an integer the Go type could not hold, or a list or string without end, would be
// stored, and then no informer could decode the list it is in, so one odd object would stop
// the manager for everybody (DESIGN.md section 8). This test reads the generated CRDs and
// names every field without a bound.
func TestEverySchemaFieldIsBounded(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no CRDs in %s: run make manifests", crdDir)
	}
	excused := map[string]bool{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, v := range crd.Spec.Versions {
			name := crd.Metadata.Name + "/" + v.Name
			for _, finding := range unboundedFields(v.Schema.OpenAPIV3Schema, "") {
				path, problem := finding[0], finding[1]
				if key := crd.Metadata.Name + ":" + path; boundedElsewhere[key] != "" {
					excused[key] = true
					continue
				}
				t.Errorf("%s: %s %s: give it a bound in api/v1alpha1", name, path, problem)
			}
		}
	}
	for key := range boundedElsewhere {
		if !excused[key] {
			t.Errorf("%s is bounded in its schema now: remove it from boundedElsewhere", key)
		}
	}
}

// A schema with no bound is found, and one with every bound is not.
func TestUnboundedFieldsFindsEachKind(t *testing.T) {
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"count":   map[string]any{"type": "integer"},
			"names":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"mode":    map[string]any{"type": "string", "enum": []any{"a", "b"}},
			"when":    map[string]any{"type": "string", "format": "date-time"},
			"bounded": map[string]any{"type": "array", "maxItems": 3, "items": map[string]any{"type": "integer", "maximum": 9}},
			"loose":   map[string]any{"x-kubernetes-preserve-unknown-fields": true},
			"either":  map[string]any{"x-kubernetes-int-or-string": true},
			"gpus": map[string]any{"x-kubernetes-int-or-string": true, "maxLength": 2,
				"x-kubernetes-validations": []any{map[string]any{"rule": "type(self) != int || self <= 64"}}},
			"conditions": map[string]any{"type": "array", "maxItems": 16, "items": map[string]any{"type": "object",
				"properties": map[string]any{"observedGeneration": map[string]any{"type": "integer"}}}},
			"byKind": map[string]any{"type": "object", "maxProperties": 4,
				"additionalProperties": map[string]any{"type": "string", "maxLength": 8}},
			"labels": map[string]any{"type": "object",
				"additionalProperties": map[string]any{"type": "string", "maxLength": 8}},
		},
	}
	var got []string
	for _, f := range unboundedFields(schema, "") {
		got = append(got, f[0]+" "+f[1])
	}
	want := []string{
		".count is an integer without a maximum",
		".either is an int-or-string without maxLength and a CEL rule bounding its integer",
		".labels is a map without maxProperties",
		".names is an array without maxItems",
		".names[] is a string without maxLength",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// unboundedFields walks a structural schema and returns, in path order, every integer
// without a maximum, array without maxItems, map without maxProperties and string without
// maxLength (an enum or a bounded format is a bound too), each as its JSON path and what
// it lacks.
func unboundedFields(schema map[string]any, path string) [][2]string {
	var out [][2]string
	add := func(problem string) { out = append(out, [2]string{path, problem}) }
	// preserve-unknown-fields marks the schemaless StringOrList fields (product_name, cmd),
	// whose schema cannot say "a string or a list of strings"; the Workload admission webhook
	// (internal/webhook/workload_shape.go) checks their shape and bounds.
	if schema["x-kubernetes-preserve-unknown-fields"] == true {
		return nil
	}
	// An int-or-string cannot carry a maximum (controller-gen refuses one): maxLength bounds
	// its string form and a CEL rule its integer form.
	if schema["x-kubernetes-int-or-string"] == true {
		_, maxLength := schema["maxLength"]
		rules, _ := schema["x-kubernetes-validations"].([]any)
		if !maxLength || len(rules) == 0 {
			add("is an int-or-string without maxLength and a CEL rule bounding its integer")
		}
		return out
	}
	_, enum := schema["enum"]
	switch schema["type"] {
	case "integer":
		if _, ok := schema["maximum"]; !ok {
			add("is an integer without a maximum")
		}
	case "string":
		_, maxLength := schema["maxLength"]
		format, _ := schema["format"].(string)
		if !maxLength && !enum && !boundedFormats[format] {
			add("is a string without maxLength")
		}
	case "array":
		if _, ok := schema["maxItems"]; !ok {
			add("is an array without maxItems")
		}
		if items, ok := schema["items"].(map[string]any); ok {
			out = append(out, unboundedFields(items, path+"[]")...)
		}
	case "object":
		if extra, ok := schema["additionalProperties"].(map[string]any); ok {
			if _, ok := schema["maxProperties"]; !ok {
				add("is a map without maxProperties")
			}
			out = append(out, unboundedFields(extra, path+"{}")...)
		}
	}
	props, _ := schema["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		// metadata is the API server's ObjectMeta, bounded by the API server itself (the CRD
		// schema only says it is an object); apiVersion and kind must name this CRD.
		if path == "" && (name == "metadata" || name == "apiVersion" || name == "kind") {
			continue
		}
		if strings.HasSuffix(path, ".conditions[]") && conditionFields[name] {
			continue
		}
		prop, ok := props[name].(map[string]any)
		if !ok {
			out = append(out, [2]string{path + "." + name, fmt.Sprintf("has a schema of type %T", props[name])})
			continue
		}
		out = append(out, unboundedFields(prop, path+"."+name)...)
	}
	return out
}
