package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Labels and annotations the project sets on the objects it manages or translates.
const (
	// LabelWorkspace marks a namespace with the Workspace it belongs to.
	LabelWorkspace = "dora.dev/workspace"
	// LabelWorkload marks a pod or service with the Workload that owns it.
	LabelWorkload = "dora.dev/workload"
	// LabelReplica marks a pod or service with its replica index.
	LabelReplica = "dora.dev/replica"
	// LabelVolume marks the PersistentVolumes and PersistentVolumeClaims made for a Volume
	// with its name; the manager caches only claims that carry it.
	LabelVolume = "dora.dev/volume"
	// AnnotationDoraName keeps a Dora name that Kubernetes could not take as it was.
	AnnotationDoraName = "dora.dev/name"
	// AnnotationZone keeps the zone a translated Dora document was written for.
	AnnotationZone = "dora.dev/zone"
	// AnnotationSourceVolume names, as <namespace>/<name>, the Volume whose directory a
	// PersistentVolume or claim reaches. A claim for another workspace's volume carries it
	// to ask the volume controller for a PersistentVolume.
	AnnotationSourceVolume = "dora.dev/source-volume"
	// AnnotationClonedFrom marks an object a workspace clone made with the workspace it was
	// copied from.
	AnnotationClonedFrom = "dora.dev/cloned-from"
)

// Finalizers the manager puts on Dora objects.
const (
	// FinalizerVolume holds a Volume until its claims and PersistentVolumes are gone and,
	// when it asked for it, its directory has been removed.
	FinalizerVolume = "dora.dev/volume"
	// FinalizerWorkspace holds a Workspace until its workloads have stopped and its claims
	// are gone, in that order; then its namespace is deleted.
	FinalizerWorkspace = "dora.dev/workspace"
	// FinalizerStorage holds a Storage while Volumes still live on it.
	FinalizerStorage = "dora.dev/storage"
)

// The value Dora uses for "any": any product, any node, any zone.
const All = "All"

// Condition types shared by several kinds.
const (
	// ConditionReady is True when the object is doing what it was asked to do.
	ConditionReady = "Ready"
)

// StringOrList is a value that a Dora document may give either as one string or as a list of
// strings, such as selectors.gpu.product_name or config.cmd. It remembers which form it was
// given in, because config.cmd treats the two differently (a string is split on whitespace).
//
// The API server cannot check the shape of such a field in its schema; the Workload admission
// webhook rejects anything that is not a string or a list of strings.
type StringOrList struct {
	// Values holds the string, or the items of the list, in order.
	Values []string `json:"-"`
	// IsList is true when the value was given as a list.
	IsList bool `json:"-"`
}

// NewString returns a StringOrList given as one string.
func NewString(s string) StringOrList { return StringOrList{Values: []string{s}} }

// NewList returns a StringOrList given as a list.
func NewList(items ...string) StringOrList {
	return StringOrList{Values: append([]string{}, items...), IsList: true}
}

// IsZero reports whether nothing was given.
func (s StringOrList) IsZero() bool { return len(s.Values) == 0 && !s.IsList }

// MarshalJSON writes the value in the form it was given in.
func (s StringOrList) MarshalJSON() ([]byte, error) {
	if s.IsList || len(s.Values) != 1 {
		if s.Values == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(s.Values)
	}
	return json.Marshal(s.Values[0])
}

// UnmarshalJSON reads a string or a list. List items that are numbers or booleans are kept as
// their text (a product may well be called 6000); the admission webhook refuses them before
// they are stored, and reading stays lenient so that one odd object never breaks a cache.
func (s *StringOrList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*s = StringOrList{}
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var one string
		if err := json.Unmarshal(data, &one); err != nil {
			return err
		}
		*s = NewString(one)
		return nil
	}
	var items []any
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	out := StringOrList{Values: make([]string, 0, len(items)), IsList: true}
	for i, item := range items {
		switch v := item.(type) {
		case string:
			out.Values = append(out.Values, v)
		case float64:
			out.Values = append(out.Values, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			out.Values = append(out.Values, strconv.FormatBool(v))
		default:
			return fmt.Errorf("item %d must be a string", i)
		}
	}
	*s = out
	return nil
}

// decimalNumber is the JSON number grammar.
var decimalNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// Amount is a non-negative decimal number such as a price per hour (2.5) or a weekly budget
// (500). It is kept as the decimal text it was written as, so no precision is lost on the way
// to the credit arithmetic, and it is written back as a JSON number.
//
// +kubebuilder:validation:Type=number
// +kubebuilder:validation:Minimum=0
type Amount string

// MarshalJSON writes the amount as a JSON number.
func (a Amount) MarshalJSON() ([]byte, error) {
	if a == "" {
		return []byte("0"), nil
	}
	if !decimalNumber.MatchString(string(a)) {
		return nil, fmt.Errorf("amount %q is not a decimal number", string(a))
	}
	return []byte(a), nil
}

// UnmarshalJSON reads a JSON number (or a string holding one) and keeps its text.
func (a *Amount) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		data = []byte(s)
	}
	if !decimalNumber.MatchString(string(data)) {
		return fmt.Errorf("must be a number, e.g. 2.5")
	}
	*a = Amount(data)
	return nil
}
