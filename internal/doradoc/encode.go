package doradoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Encode writes objects back as Dora documents (apiVersion v1, Dora kind names, the original
// Dora names, metadata.zone and metadata.group), separated by ---. It is the inverse of Decode
// for documents Decode produced.
func Encode(objects ...client.Object) ([]byte, error) {
	var out bytes.Buffer
	for i, obj := range objects {
		doc, err := encodeOne(obj)
		if err != nil {
			return nil, fmt.Errorf("object %d (%s): %w", i+1, obj.GetName(), err)
		}
		out.WriteString("---\n")
		out.Write(doc)
	}
	return out.Bytes(), nil
}

func encodeOne(obj client.Object) ([]byte, error) {
	info, ok := kindOf(obj)
	if !ok {
		return nil, fmt.Errorf("%T is not a Dora kind", obj)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var shaped map[string]any
	if err := unmarshalNumbers(raw, &shaped); err != nil {
		return nil, err
	}

	annotations := maps.Clone(obj.GetAnnotations())
	name := obj.GetName()
	if original := annotations[doradev1.AnnotationDoraName]; original != "" {
		name = original
	}
	meta := map[string]any{"name": name}
	if zone := annotations[doradev1.AnnotationZone]; zone != "" {
		meta["zone"] = zone
	}
	if info.namespaced {
		workspace := annotations[AnnotationWorkspace]
		if workspace == "" {
			workspace = obj.GetNamespace()
		}
		meta["group"] = workspace
	}
	for key := range annotations {
		if strings.HasPrefix(key, "dora.dev/") {
			delete(annotations, key)
		}
	}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	if labels := obj.GetLabels(); len(labels) > 0 {
		meta["labels"] = labels
	}

	doc := map[string]any{
		"apiVersion": DoraAPIVersion,
		"kind":       info.dora,
		"metadata":   meta,
	}
	if spec, ok := shaped["spec"]; ok {
		doc["spec"] = spec
	}
	return yaml.Marshal(doc)
}
