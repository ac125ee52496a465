package doradoc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// This file holds the one rule the package doc states for null and for values the typed
// objects cannot tell from absent. It walks a document's generic tree next to the Go type it
// is about to be decoded into, so that it knows, at every point, whether a mapping is a
// struct (whose keys are fields) or a map (whose keys are data), and names the field of
// every problem the way the rest of the package does (spec.credits[0].weekly).

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	amountType      = reflect.TypeFor[doradev1.Amount]()
)

// normalize applies the null rule to v, a value decoded with unmarshalNumbers that is about
// to be decoded into a t, found at path: it deletes the fields given as null (a field given
// as null is absent), refuses null list items and null map values, refuses a required
// amount left out, and checks every value of a type with its own JSON decoding, so that its
// error names the field. It changes v in place. Shapes that do not fit t (a list for a
// mapping, an unknown field) are left for the strict decoder, which names them.
func normalize(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// A leaf with its own decoding (an Amount, a StringOrList, a time): no null inside
		// it, and its own error, with the field named.
		if err := refuseNullItems(v, path); err != nil {
			return err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return &Error{Field: path, Message: err.Error()}
		}
		if err := json.Unmarshal(data, reflect.New(t).Interface()); err != nil {
			return &Error{Field: path, Message: strings.TrimPrefix(err.Error(), "json: ")}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for _, key := range sortedKeys(obj) {
			f, known := fields[key]
			if !known {
				continue
			}
			if obj[key] == nil {
				delete(obj, key)
				continue
			}
			if err := normalize(obj[key], f.typ, join(path, key)); err != nil {
				return err
			}
		}
		for _, key := range sortedKeys(fields) {
			if f := fields[key]; f.typ == amountType && !f.omitempty {
				if _, given := obj[key]; !given {
					return &Error{Field: join(path, key), Message: "required: a number such as 500 (an amount left out is not 0)"}
				}
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, key := range sortedKeys(obj) {
			at := fmt.Sprintf("%s[%s]", path, key)
			if obj[key] == nil {
				return &Error{Field: at, Message: "must not be null: give a value, or remove the key"}
			}
			if err := normalize(obj[key], t.Elem(), at); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, item := range items {
			at := fmt.Sprintf("%s[%d]", path, i)
			if item == nil {
				return &Error{Field: at, Message: "a list item must not be null (an empty \"-\" line?): give a value, or remove the item"}
			}
			if err := normalize(item, t.Elem(), at); err != nil {
				return err
			}
		}
	case reflect.Interface:
		return refuseNullItems(v, path)
	}
	return nil
}

// refuseNullItems refuses null list items and null mapping values anywhere in v, a value
// without a Go type to say more.
func refuseNullItems(v any, path string) error {
	switch v := v.(type) {
	case []any:
		for i, item := range v {
			at := fmt.Sprintf("%s[%d]", path, i)
			if item == nil {
				return &Error{Field: at, Message: "a list item must not be null (an empty \"-\" line?): give a value, or remove the item"}
			}
			if err := refuseNullItems(item, at); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, key := range sortedKeys(v) {
			at := fmt.Sprintf("%s[%s]", path, key)
			if v[key] == nil {
				return &Error{Field: at, Message: "must not be null: give a value, or remove the key"}
			}
			if err := refuseNullItems(v[key], at); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	typ       reflect.Type
	omitempty bool
}

// jsonFields are the fields of struct type t by their JSON names, the fields of inlined
// embedded structs (TypeMeta, ObjectMeta) included.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			embedded := f.Type
			for embedded.Kind() == reflect.Pointer {
				embedded = embedded.Elem()
			}
			if embedded.Kind() == reflect.Struct {
				for k, v := range jsonFields(embedded) {
					if _, shadowed := out[k]; !shadowed {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		omit := false
		for _, o := range strings.Split(opts, ",") {
			omit = omit || o == "omitempty" || o == "omitzero"
		}
		out[name] = jsonField{typ: f.Type, omitempty: omit}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
