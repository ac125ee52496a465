package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/doradoc"
)

// Doc is one document of an apply or a delete: where it came from and what it became.
type Doc struct {
	// Source is the file it was read from ("stdin" for -f -).
	Source string
	// Index is its position in the file, from 1.
	Index int
	// Kind is its kind.
	Kind Kind
	// Object is the translated object.
	Object client.Object
	// Zone is the zone the document names (metadata.zone, or the dora.dev/zone
	// annotation of CRD YAML); empty when it names none.
	Zone string
}

// Name is the document's object name as its author wrote it (the Dora name).
func (d *Doc) Name() string {
	if n := d.Object.GetAnnotations()[doradev1.AnnotationDoraName]; n != "" {
		return n
	}
	return d.Object.GetName()
}

// DocError is a refused document: it names the file, the document, its kind and name, the
// field, and the zone when one refused it.
type DocError struct {
	Source  string
	Index   int
	Kind    string
	Name    string
	Field   string
	Zone    string
	Message string
}

func (e *DocError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: document %d", e.Source, e.Index)
	if e.Kind != "" || e.Name != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Kind, e.Name)
	}
	if e.Zone != "" {
		fmt.Fprintf(&b, " in zone %s", e.Zone)
	}
	b.WriteString(": ")
	// A server's message names the field itself ("spec.x: Invalid value").
	if e.Field != "" && !strings.Contains(e.Message, e.Field+":") {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// docError is a DocError about d.
func (d *Doc) docError(zone, field, format string, args ...any) *DocError {
	return &DocError{Source: d.Source, Index: d.Index, Kind: d.Kind.Dora, Name: d.Name(), Field: field, Zone: zone, Message: fmt.Sprintf(format, args...)}
}

// Translation is what the sources became.
type Translation struct {
	Docs []Doc
	// Unused are -e variables no document referenced.
	Unused []string
}

// Translate substitutes the variables into every source and translates its documents
// (Dora's or CRD YAML) with the defaults. It returns every problem of every source; with
// any, no document: nothing of the sources may be applied.
func Translate(sources []Source, vars Variables, defaults doradoc.Defaults) (*Translation, []error) {
	var docs []Doc
	var errs []error
	var uses []map[string]bool
	for _, src := range sources {
		text, used := vars.Substitute(src.Text)
		uses = append(uses, used)
		decoded, err := doradoc.Decode([]byte(text), defaults)
		if err != nil {
			errs = append(errs, sourceErrors(src.Name, err)...)
			continue
		}
		for _, d := range decoded {
			k, ok := KindOf(d.Object.GetObjectKind().GroupVersionKind().Kind)
			if !ok {
				errs = append(errs, &DocError{Source: src.Name, Index: d.Index, Name: d.Object.GetName(), Message: "not a kind the plugin knows"})
				continue
			}
			docs = append(docs, Doc{Source: src.Name, Index: d.Index, Kind: k, Object: d.Object, Zone: d.Zone})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(docs) == 0 {
		return nil, []error{errors.New("the files hold no documents")}
	}
	return &Translation{Docs: docs, Unused: vars.Unused(uses...)}, nil
}

// sourceErrors names the source in each of the translator's errors.
func sourceErrors(source string, err error) []error {
	var leaves []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		leaves = joined.Unwrap()
	} else {
		leaves = []error{err}
	}
	out := make([]error, 0, len(leaves))
	for _, leaf := range leaves {
		var de *doradoc.Error
		if errors.As(leaf, &de) {
			out = append(out, &DocError{Source: source, Index: de.Index, Kind: de.Kind, Name: de.Name, Field: de.Field, Message: de.Message})
			continue
		}
		out = append(out, fmt.Errorf("%s: %w", source, leaf))
	}
	return out
}

// Step is one object to write in one zone.
type Step struct {
	Doc  *Doc
	Zone string
	// Object is what is sent: the translated object without status.
	Object *unstructured.Unstructured
}

// Key identifies the object a step writes, within its zone.
func (s Step) Key() string {
	return s.Zone + "/" + s.Doc.Kind.Kind + "/" + s.Object.GetNamespace() + "/" + s.Object.GetName()
}

// Plan is every write of an apply (or delete), zone by zone: cluster-wide kinds first and
// in the order the manager needs them (Roles, Users, Workspaces, Storages ... Volumes,
// Workloads), then the documents' own order.
type Plan struct {
	Zones []string
	Steps []Step
}

// ForZone are the steps of one zone.
func (p *Plan) ForZone(zone string) []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Zone == zone {
			out = append(out, s)
		}
	}
	return out
}

// PlanInput is what the plan is made from.
type PlanInput struct {
	Docs []Doc
	// Configured are the configured zones: documents of cluster-wide kinds without a zone
	// (User, Role, Workspace, Zone), and those for zone All, go to every one of them.
	Configured []string
	// Default is the zone of zoned documents that name none ("" when there is none).
	Default string
	// Known reports whether a zone named by a document can be reached.
	Known func(zone string) bool
	// KnownZones are listed when a document names an unknown zone.
	KnownZones []string
}

// kindOrder is the order in which kinds are written in one zone: what others need first.
var kindOrder = []string{"Role", "User", "Zone", "Workspace", "Storage", "Node", "ResourceCredit", "UserCredit", "Volume", "Workload"}

// MakePlan decides which zone each document goes to. It refuses a document that names a
// zone that cannot be reached, a zoned document when there is no zone to send it to, and
// a second document for the same object in a zone; with any refusal there is no plan.
func MakePlan(in PlanInput) (*Plan, []error) {
	var errs []error
	plan := &Plan{}
	seen := map[string]*Doc{}
	for i := range in.Docs {
		d := &in.Docs[i]
		var targets []string
		switch {
		case d.Zone == doradev1.All || d.Zone == "" && !d.Kind.Zoned:
			targets = in.Configured
			if len(targets) == 0 && in.Default != "" {
				targets = []string{in.Default}
			}
		case d.Zone == "":
			if in.Default == "" {
				errs = append(errs, d.docError("", "metadata.zone", "no zone given and no default zone: give metadata.zone, or -z ZONE, or set spec.default.zone in your Dora User"))
				continue
			}
			targets = []string{in.Default}
		case in.Known != nil && !in.Known(d.Zone):
			errs = append(errs, d.docError("", "metadata.zone", "unknown zone %q; the zones are %s (kubectl dora zones)", d.Zone, strings.Join(in.KnownZones, ", ")))
			continue
		default:
			targets = []string{d.Zone}
		}
		if len(targets) == 0 {
			errs = append(errs, d.docError("", "metadata.zone", "no zone to send it to: configure zones (kubectl dora zones set) or give -z ZONE"))
			continue
		}
		obj, err := stepObject(d.Object)
		if err != nil {
			errs = append(errs, d.docError("", "", "%v", err))
			continue
		}
		for _, zone := range targets {
			step := Step{Doc: d, Zone: zone, Object: obj.DeepCopy()}
			if first, dup := seen[step.Key()]; dup {
				errs = append(errs, d.docError(zone, "metadata.name", "the same %s as document %d of %s; give each object once", d.Kind.Dora, first.Index, first.Source))
				continue
			}
			seen[step.Key()] = d
			plan.Steps = append(plan.Steps, step)
			if !slices.Contains(plan.Zones, zone) {
				plan.Zones = append(plan.Zones, zone)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.Strings(plan.Zones)
	zoneRank := func(z string) int { return slices.Index(plan.Zones, z) }
	kindRank := func(k string) int {
		if i := slices.Index(kindOrder, k); i >= 0 {
			return i
		}
		return len(kindOrder)
	}
	sort.SliceStable(plan.Steps, func(i, j int) bool {
		a, b := plan.Steps[i], plan.Steps[j]
		if za, zb := zoneRank(a.Zone), zoneRank(b.Zone); za != zb {
			return za < zb
		}
		return kindRank(a.Doc.Kind.Kind) < kindRank(b.Doc.Kind.Kind)
	})
	return plan, nil
}

// stepObject is the object sent for a translated one: its JSON (so that omitted fields
// stay omitted) without status and the creation time an empty one marshals to.
func stepObject(obj client.Object) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}
