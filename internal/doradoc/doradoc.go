// Package doradoc translates Dora's own YAML documents (apiVersion v1, Dora kind names,
// metadata.zone and metadata.group or metadata.workspace) into typed dora.dev/v1alpha1
// objects, and back. It is pure: no client, no cluster.
//
// # Null and left-out values
//
// A typed object cannot tell null, or a value left out, from the zero value, and some zero
// values are written back as something else (an amount left out is written as 0). So that
// nothing is decided silently and Decode, Encode and Decode again always give the same
// object, every document (Dora's own or Kubernetes-shaped) follows one rule:
//
//   - A field given as null (in YAML also a key with nothing after it, weekly:) is absent,
//     as Kubernetes reads it: spec: {notify: null} is spec: {}.
//   - A list item given as null (spec.credits: [null], or an empty "-" line) is refused,
//     naming it: spec.credits[0]: a list item must not be null.
//   - A value given as null in a mapping of names to values (metadata.labels,
//     metadata.annotations, spec.annotations, spec.permission) is refused, naming the key:
//     metadata.labels[team]: must not be null.
//   - An amount a kind requires (spec.credits[i].weekly, spec.credit.per.hour) left out or
//     given as null is refused: a budget left out is not a budget of 0.
//
// Every such error, as every other, names the document, its kind and name, and the field.
package doradoc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	strictjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// DoraAPIVersion is the apiVersion of Dora's own documents.
const DoraAPIVersion = "v1"

// AnnotationWorkspace keeps the Dora workspace name of a translated namespaced object; the
// namespace name alone cannot give it back when the workspace name has dots.
const AnnotationWorkspace = "dora.dev/workspace"

// Document is one object read from a stream of Dora documents.
type Document struct {
	// Index is the document's position in the stream, counted from 1.
	Index int
	// Object is the typed object, with apiVersion, kind, name and (for workspaced kinds)
	// namespace set.
	Object client.Object
	// Zone is the zone the document was written for; empty when it names none.
	Zone string
	// Workspace is the Dora workspace of a workspaced kind (Workload, Volume).
	Workspace string
}

// Defaults fill in what a document leaves out, as Dora filled them from the user's profile.
type Defaults struct {
	// Zone is used when a document names no zone.
	Zone string
	// Workspace is used when a Workload or Volume names no workspace.
	Workspace string
}

// Error is a problem with one document, naming where it is.
type Error struct {
	// Index is the document's position in the stream, from 1.
	Index int
	// Kind and Name identify the document when it got that far.
	Kind, Name string
	// Field is the path of the offending field, such as spec.image.image.
	Field string
	// Message says what is wrong and what to do.
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "document %d", e.Index)
	if e.Kind != "" || e.Name != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Kind, e.Name)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Decode reads every document in data. Documents may be Dora's own (apiVersion v1) or
// already Kubernetes-shaped (apiVersion dora.dev/v1alpha1). It returns all the problems it
// finds, each naming its document; when there is any, it returns no documents, so that a
// caller never applies half of a file.
func Decode(data []byte, defaults Defaults) ([]Document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []Document
	var errs []error
	for index := 1; ; index++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &Error{Index: index, Message: err.Error()})
			break
		}
		doc, skip, err := decodeOne(index, raw, defaults)
		switch {
		case err != nil:
			errs = append(errs, err)
		case skip:
			index--
		default:
			docs = append(docs, doc)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return docs, nil
}

// decodeOne translates one document. skip is true for a document with nothing in it.
func decodeOne(index int, raw []byte, defaults Defaults) (Document, bool, error) {
	fail := func(kind, name, field, format string, args ...any) (Document, bool, error) {
		return Document{}, false, &Error{Index: index, Kind: kind, Name: name, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	jsonDoc, err := yaml.YAMLToJSON(ExpandIndentTabs(raw))
	if err != nil {
		return fail("", "", "", "not valid YAML: %v", err)
	}
	var top map[string]any
	if err := unmarshalNumbers(jsonDoc, &top); err != nil {
		return fail("", "", "", "a document must be a mapping with apiVersion, kind, metadata and spec")
	}
	if len(top) == 0 {
		return Document{}, true, nil
	}

	kindName, _ := top["kind"].(string)
	meta, _ := top["metadata"].(map[string]any)
	doraName, _ := meta["name"].(string)
	if kindName == "" {
		return fail("", doraName, "kind", "required; one of %s", knownKinds())
	}
	info, ok := lookupKind(kindName)
	if !ok {
		return fail(kindName, doraName, "kind", "unknown kind %q; Dora kinds are %s", kindName, knownKinds())
	}
	apiVersion, _ := top["apiVersion"].(string)
	kubeShaped := apiVersion == doradev1.GroupVersion.String()
	if apiVersion != DoraAPIVersion && !kubeShaped {
		return fail(info.dora, doraName, "apiVersion", "must be %s (a Dora document) or %s, not %q", DoraAPIVersion, doradev1.GroupVersion, apiVersion)
	}
	for key := range top {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec", "status"}, key) {
			return fail(info.dora, doraName, key, "unknown field; a document has apiVersion, kind, metadata and spec")
		}
	}
	if meta == nil {
		return fail(info.dora, "", "metadata.name", "required: every document needs a name")
	}
	if doraName == "" {
		return fail(info.dora, "", "metadata.name", "required: every document needs a name")
	}
	spec, hasSpec := top["spec"].(map[string]any)
	if top["spec"] != nil && !hasSpec {
		return fail(info.dora, doraName, "spec", "must be a mapping")
	}
	for _, path := range info.required {
		if !hasPath(spec, path) {
			return fail(info.dora, doraName, "spec."+path, "required for a %s", info.dora)
		}
	}

	doc := Document{Index: index}
	var objectMeta map[string]any
	if kubeShaped {
		objectMeta = meta
		doc.Zone = annotation(meta, doradev1.AnnotationZone)
		doc.Workspace = annotation(meta, AnnotationWorkspace)
	} else {
		objectMeta, doc.Zone, doc.Workspace, err = doraMetadata(info, meta, defaults)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Index, e.Kind, e.Name = index, info.dora, doraName
			}
			return Document{}, false, err
		}
	}

	shaped := map[string]any{
		"apiVersion": doradev1.GroupVersion.String(),
		"kind":       info.kube,
		"metadata":   objectMeta,
	}
	if spec != nil {
		shaped["spec"] = spec
	}
	if status, ok := top["status"]; ok && kubeShaped {
		shaped["status"] = status
	}
	obj := info.newObject()
	if err := normalize(shaped, reflect.TypeOf(obj).Elem(), ""); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return fail(info.dora, doraName, e.Field, "%s", e.Message)
		}
		return fail(info.dora, doraName, "", "%v", err)
	}
	shapedJSON, err := json.Marshal(shaped)
	if err != nil {
		return fail(info.dora, doraName, "", "%v", err)
	}
	strictErrs, err := strictjson.UnmarshalStrict(shapedJSON, obj)
	if err != nil {
		return fail(info.dora, doraName, "", "%s", cleanJSONError(err))
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, 0, len(strictErrs))
		for _, e := range strictErrs {
			msgs = append(msgs, e.Error())
		}
		return fail(info.dora, doraName, "", "%s", strings.Join(msgs, "; "))
	}
	doc.Object = obj
	return doc, false, nil
}

// doraMetadata turns Dora's metadata (name, zone, group or workspace) into Kubernetes
// metadata, and returns the zone and workspace the document is for.
func doraMetadata(info kindInfo, meta map[string]any, defaults Defaults) (map[string]any, string, string, error) {
	for key := range meta {
		if !slices.Contains([]string{"name", "zone", "group", "workspace", "labels", "annotations"}, key) {
			return nil, "", "", &Error{Field: "metadata." + key, Message: "unknown field; Dora metadata has name, zone, group or workspace, labels and annotations"}
		}
	}
	doraName, _ := meta["name"].(string)
	zone, err := stringField(meta, "zone")
	if err != nil {
		return nil, "", "", err
	}
	group, err := stringField(meta, "group")
	if err != nil {
		return nil, "", "", err
	}
	workspace, err := stringField(meta, "workspace")
	if err != nil {
		return nil, "", "", err
	}
	if group != "" && workspace != "" && group != workspace {
		return nil, "", "", &Error{Field: "metadata.group", Message: fmt.Sprintf("group %q and workspace %q name different workspaces; they are two names for the same thing, give one", group, workspace)}
	}
	if workspace == "" {
		workspace = group
	}
	if zone == "" {
		zone = defaults.Zone
	}

	annotations := map[string]any{}
	switch given := meta["annotations"].(type) {
	case nil:
	case map[string]any:
		for k, v := range given {
			annotations[k] = v
		}
	default:
		return nil, "", "", &Error{Field: "metadata.annotations", Message: "must be a mapping of names to strings"}
	}
	name, changed := naming.ObjectName(doraName)
	if changed {
		annotations[doradev1.AnnotationDoraName] = doraName
	}
	if zone != "" {
		annotations[doradev1.AnnotationZone] = zone
	}
	out := map[string]any{"name": name}
	if labels, ok := meta["labels"]; ok {
		out["labels"] = labels
	}

	if info.namespaced {
		if workspace == "" {
			workspace = defaults.Workspace
		}
		if workspace == "" {
			return nil, "", "", &Error{Field: "metadata.group", Message: fmt.Sprintf("a %s lives in a workspace: give metadata.group or metadata.workspace, or a default workspace", info.dora)}
		}
		workspaceName, _ := naming.ObjectName(workspace)
		out["namespace"] = naming.WorkspaceNamespace(workspaceName)
		annotations[AnnotationWorkspace] = workspace
	} else if workspace != "" {
		return nil, "", "", &Error{Field: "metadata.group", Message: fmt.Sprintf("a %s is not in a workspace; remove metadata.group and metadata.workspace", info.dora)}
	}
	if len(annotations) > 0 {
		out["annotations"] = annotations
	}
	return out, zone, workspace, nil
}

func stringField(meta map[string]any, key string) (string, error) {
	v, ok := meta[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &Error{Field: "metadata." + key, Message: "must be a string"}
	}
	return s, nil
}

func annotation(meta map[string]any, key string) string {
	annotations, _ := meta["annotations"].(map[string]any)
	s, _ := annotations[key].(string)
	return s
}

// hasPath reports whether a dotted path is present and not empty in a decoded document.
func hasPath(m map[string]any, path string) bool {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = obj[part]; !ok || cur == nil || cur == "" {
			return false
		}
	}
	return true
}

// ExpandIndentTabs turns tabs in a line's indentation into spaces at tab stops of eight
// columns. YAML forbids tabs there, but Dora documents copied from its own docs use them.
func ExpandIndentTabs(doc []byte) []byte {
	if !bytes.Contains(doc, []byte{'\t'}) {
		return doc
	}
	lines := bytes.Split(doc, []byte{'\n'})
	for i, line := range lines {
		col, end := 0, 0
		var indent []byte
		for end < len(line) && (line[end] == ' ' || line[end] == '\t') {
			if line[end] == '\t' {
				next := (col/8 + 1) * 8
				indent = append(indent, bytes.Repeat([]byte{' '}, next-col)...)
				col = next
			} else {
				indent = append(indent, ' ')
				col++
			}
			end++
		}
		lines[i] = append(indent, line[end:]...)
	}
	return bytes.Join(lines, []byte{'\n'})
}

// unmarshalNumbers decodes JSON keeping numbers exact (json.Number), so that a shmSize of
// 1000000000 does not pass through a float.
func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// cleanJSONError drops the Go type names from encoding/json's messages, keeping the field.
func cleanJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return fmt.Sprintf("%s: must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "a whole number"
	case strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "bool":
		return "true or false"
	case goKind == "string":
		return "a string"
	case goKind == "slice":
		return "a list"
	default:
		return "a mapping"
	}
}
