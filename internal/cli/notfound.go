package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// ObjectName is the Kubernetes name of a Dora name, as the translator makes it: a valid
// name is kept, any other (Tesla V100-SXM2-16GB) gets its deterministic form.
func ObjectName(doraName string) string {
	name, _ := naming.ObjectName(doraName)
	return name
}

// Scope says where objects were looked for, for messages: "in workspace amedeo.setti (zone
// dc-rov-01)", or "in zone dc-rov-01" for cluster-wide kinds.
func Scope(k Kind, workspace, zone string) string {
	if k.Namespaced && workspace != "" {
		return fmt.Sprintf("in workspace %s (zone %s)", workspace, zone)
	}
	return "in zone " + zone
}

// Place says where an object is, for parentheses: "workspace amedeo.setti, zone
// dc-rov-01", or "zone dc-rov-01" for cluster-wide kinds.
func Place(k Kind, workspace, zone string) string {
	if k.Namespaced && workspace != "" {
		return fmt.Sprintf("workspace %s, zone %s", workspace, zone)
	}
	return "zone " + zone
}

// NotFoundError is a missing object, with the nearest existing name when one is close.
type NotFoundError struct {
	Kind      Kind
	Name      string
	Scope     string
	Suggested string
	// Existing are some names that exist, shown when none is near.
	Existing []string
	// Total is how many objects of the kind exist there; -1 when they could not be listed.
	Total int
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s %q not found %s", e.Kind.Singular(), e.Name, e.Scope)
	switch {
	case e.Suggested != "":
		msg += fmt.Sprintf("; did you mean %q?", e.Suggested)
	case e.Total == 0:
		msg += fmt.Sprintf("; there are no %s there", e.Kind.Plural())
	case len(e.Existing) > 0:
		more := ""
		if e.Total > len(e.Existing) {
			more = fmt.Sprintf(" (and %d more)", e.Total-len(e.Existing))
		}
		msg += fmt.Sprintf("; the %s there are %s%s", e.Kind.Plural(), strings.Join(e.Existing, ", "), more)
	}
	return msg
}

// NewNotFound builds the error for a missing object from the names that do exist.
func NewNotFound(k Kind, name, scope string, existing []string, listed bool) *NotFoundError {
	e := &NotFoundError{Kind: k, Name: name, Scope: scope, Total: -1}
	if !listed {
		return e
	}
	sort.Strings(existing)
	e.Total = len(existing)
	e.Suggested = Nearest(name, existing)
	if e.Suggested == "" && len(existing) > 0 {
		e.Existing = existing[:min(len(existing), 5)]
	}
	return e
}

// NotFound is the error for object name of kind k missing in namespace (workspace) of the
// session's zone, with a suggestion from the names there.
func (s *Session) NotFound(ctx context.Context, k Kind, namespace, workspace, name string) error {
	names, err := s.Names(ctx, k, namespace)
	return NewNotFound(k, name, Scope(k, workspace, s.Zone.Name), names, err == nil)
}

// Names are the names of the objects of kind k in namespace (Dora names where the
// translator had to change them), for suggestions and completion.
func (s *Session) Names(ctx context.Context, k Kind, namespace string) ([]string, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(k.Resource.GroupVersion().WithKind(k.Kind + "List"))
	var opts []client.ListOption
	if k.Namespaced && namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if k.Container {
		opts = append(opts, client.HasLabels{doradev1.LabelWorkload})
	}
	if err := s.Client.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		if dora := item.Annotations[doradev1.AnnotationDoraName]; dora != "" {
			names = append(names, dora)
			continue
		}
		names = append(names, item.Name)
	}
	return names, nil
}
