package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// tableAccept asks the API server for a Table: the columns the CRDs' printer columns say
// (and the built-in kinds' own), as kubectl get shows them.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

// resourcePath is the URL path of a resource's collection, or of one object when name is
// given; an empty namespace means every namespace (or a cluster-scoped kind).
func resourcePath(gvr schema.GroupVersionResource, namespace, name string) string {
	p := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		p = "/api/" + gvr.Version
	}
	if namespace != "" {
		p = path.Join(p, "namespaces", namespace)
	}
	p = path.Join(p, gvr.Resource)
	if name != "" {
		p = path.Join(p, name)
	}
	return p
}

// tableQuery is what a table or watch request selects.
type tableQuery struct {
	Kind      Kind
	Namespace string
	// Name is one object's name; empty: the whole collection.
	Name string
	// Selector is a label selector.
	Selector string
}

// rawClient is a REST client that takes absolute paths.
func (s *Session) rawClient() rest.Interface { return s.Kube.Discovery().RESTClient() }

// FetchTable asks the zone for the table of the objects the query selects.
func (s *Session) FetchTable(ctx context.Context, q tableQuery) (*metav1.Table, error) {
	req := s.rawClient().Get().AbsPath(resourcePath(q.Kind.Resource, q.Namespace, q.Name)).SetHeader("Accept", tableAccept)
	if q.Selector != "" && q.Name == "" {
		req = req.Param("labelSelector", q.Selector)
	}
	raw, err := req.DoRaw(ctx)
	if err != nil {
		return nil, statusError(raw, err)
	}
	return decodeTable(raw)
}

// statusError is the API server's Status in body as an error, when it sent one: the raw
// client's own error for it says only "unknown".
func statusError(body []byte, err error) error {
	status := metav1.Status{}
	if json.Unmarshal(body, &status) == nil && status.Kind == "Status" && status.Message != "" {
		return &apierrors.StatusError{ErrStatus: status}
	}
	return err
}

// WatchTable streams the table rows of changes to what the query selects, from
// resourceVersion on, until ctx ends or the server closes the watch. Each event's rows go
// to rows with the event type.
func (s *Session) WatchTable(ctx context.Context, q tableQuery, resourceVersion string, rows func(eventType string, t *metav1.Table) error) error {
	req := s.rawClient().Get().AbsPath(resourcePath(q.Kind.Resource, q.Namespace, "")).SetHeader("Accept", tableAccept).
		Param("watch", "true").Param("resourceVersion", resourceVersion).Param("allowWatchBookmarks", "false")
	if q.Selector != "" {
		req = req.Param("labelSelector", q.Selector)
	}
	if q.Name != "" {
		req = req.Param("fieldSelector", "metadata.name="+q.Name)
	}
	stream, err := req.Stream(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = stream.Close() }()
	dec := json.NewDecoder(stream)
	// The API server sends the columns with the first event only.
	var columns []metav1.TableColumnDefinition
	for {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if err == io.EOF || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading the watch: %w", err)
		}
		switch ev.Type {
		case "BOOKMARK":
			continue
		case "ERROR":
			status := &metav1.Status{}
			_ = json.Unmarshal(ev.Object, status)
			return fmt.Errorf("the watch ended: %s", status.Message)
		}
		t, err := decodeTable(ev.Object)
		if err != nil {
			return err
		}
		if len(t.ColumnDefinitions) == 0 {
			t.ColumnDefinitions = columns
		}
		columns = t.ColumnDefinitions
		if err := rows(ev.Type, t); err != nil {
			return err
		}
	}
}

// decodeTable reads a Table, with each row's object decoded (its metadata), so the names
// and namespaces of the rows can be read.
func decodeTable(raw []byte) (*metav1.Table, error) {
	t := &metav1.Table{}
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("reading the table the API server sent: %w", err)
	}
	if t.Kind != "" && t.Kind != "Table" {
		return nil, fmt.Errorf("the API server sent a %s, not a Table", t.Kind)
	}
	for i := range t.Rows {
		row := &t.Rows[i]
		if len(row.Object.Raw) == 0 {
			continue
		}
		m := &metav1.PartialObjectMetadata{}
		if err := json.Unmarshal(row.Object.Raw, m); err == nil {
			row.Object.Object = m
		}
	}
	return t, nil
}

// rowMeta is the metadata of a table row's object.
func rowMeta(row metav1.TableRow) metav1.Object {
	if m, ok := row.Object.Object.(metav1.Object); ok {
		return m
	}
	return &metav1.ObjectMeta{}
}

// prependColumn adds a column before the others, its cell in each row given by value.
func prependColumn(t *metav1.Table, name string, value func(row metav1.TableRow) string) {
	t.ColumnDefinitions = append([]metav1.TableColumnDefinition{{Name: name, Type: "string"}}, t.ColumnDefinitions...)
	for i := range t.Rows {
		t.Rows[i].Cells = append([]any{value(t.Rows[i])}, t.Rows[i].Cells...)
	}
}

// mergeTables joins the rows of tables with the same columns (one per zone) into one.
func mergeTables(tables []*metav1.Table) *metav1.Table {
	if len(tables) == 0 {
		return &metav1.Table{}
	}
	out := &metav1.Table{ColumnDefinitions: slices.Clone(tables[0].ColumnDefinitions)}
	for _, t := range tables {
		if len(out.ColumnDefinitions) == 0 {
			out.ColumnDefinitions = slices.Clone(t.ColumnDefinitions)
		}
		out.Rows = append(out.Rows, t.Rows...)
	}
	return out
}

// decorate adds the ZONE column (when zone is set) and the NAMESPACE column (when
// namespaces is set) in front of a zone's table.
func decorate(t *metav1.Table, zone string, namespaces bool) {
	if namespaces {
		prependColumn(t, "Namespace", func(row metav1.TableRow) string { return rowMeta(row).GetNamespace() })
	}
	if zone != "" {
		// The one Dora kind with a column of that name is User, where it is the default zone.
		for i := range t.ColumnDefinitions {
			if strings.EqualFold(t.ColumnDefinitions[i].Name, "Zone") {
				t.ColumnDefinitions[i].Name = "Default Zone"
			}
		}
		prependColumn(t, "Zone", func(metav1.TableRow) string { return zone })
	}
}
