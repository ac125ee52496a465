package doradoc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Null list items, null map values and required amounts left out are refused, naming the
// field, for Dora's documents and Kubernetes-shaped ones alike.
func TestDecodeRefusesNulls(t *testing.T) {
	const (
		user     = "apiVersion: v1\nkind: User\nmetadata: {name: a}\n"
		workload = "apiVersion: v1\nkind: Workload\nmetadata: {name: w, group: g}\n"
		role     = "apiVersion: v1\nkind: Role\nmetadata: {name: r}\n"
		rc       = "apiVersion: v1\nkind: Resourcecredit\nmetadata: {name: p}\n"
		kube     = "apiVersion: dora.dev/v1alpha1\nkind: Workload\nmetadata: {name: w, namespace: team-a}\n"
	)
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"the fuzz's credits: [null]", user + "spec: {credits: [null]}", "document 1 (User a): spec.credits[0]: a list item must not be null"},
		{"an empty dash line", user + "spec:\n  credits:\n  - zone: z\n    weekly: 5\n  -\n", "document 1 (User a): spec.credits[1]: a list item must not be null"},
		{"weekly left out", user + "spec: {credits: [{zone: z}]}", "document 1 (User a): spec.credits[0].weekly: required: a number such as 500"},
		{"weekly null", user + "spec: {credits: [{zone: z, weekly: null}]}", "document 1 (User a): spec.credits[0].weekly: required"},
		{"weekly not a number", user + "spec: {credits: [{zone: z, weekly: lots}]}", "document 1 (User a): spec.credits[0].weekly: must be a number, e.g. 2.5"},
		{"resources: [null]", user + "spec: {resources: [null]}", "spec.resources[0]: a list item must not be null"},
		{"env: [null]", workload + "spec: {image: {image: x}, config: {env: [a=b, null]}}", "document 1 (Workload w): spec.config.env[1]: a list item must not be null"},
		{"volumes: [null]", workload + "spec: {image: {image: x}, volumes: [null]}", "spec.volumes[0]: a list item must not be null"},
		{"ports: [null]", workload + "spec: {image: {image: x}, network: {ports: [null]}}", "spec.network.ports[0]: a list item must not be null"},
		{"product_name: [null]", workload + "spec: {image: {image: x}, selectors: {gpu: {product_name: [V100, null]}}}", "spec.selectors.gpu.product_name[1]: a list item must not be null"},
		{"product_name item a mapping", workload + "spec: {image: {image: x}, selectors: {gpu: {product_name: [{a: b}]}}}", "spec.selectors.gpu.product_name: item 0 must be a string"},
		{"cmd: [null]", workload + "spec: {image: {image: x}, config: {cmd: [null]}}", "spec.config.cmd[0]: a list item must not be null"},
		{"count not a number", workload + "spec: {image: {image: x}, selectors: {gpu: {count: [1]}}}", "spec.selectors.gpu.count:"},
		{"label null", "apiVersion: v1\nkind: Workload\nmetadata: {name: w, group: g, labels: {team: null}}\nspec: {image: {image: x}}", "document 1 (Workload w): metadata.labels[team]: must not be null"},
		{"annotation null", "apiVersion: v1\nkind: Workload\nmetadata: {name: w, group: g, annotations: {note: null}}\nspec: {image: {image: x}}", "metadata.annotations[note]: must not be null"},
		{"annotations not a mapping", "apiVersion: v1\nkind: Workload\nmetadata: {name: w, group: g, annotations: [a]}\nspec: {image: {image: x}}", "metadata.annotations: must be a mapping"},
		{"permission verbs null", role + "spec: {permission: {Container: null}}", "document 1 (Role r): spec.permission[Container]: must not be null"},
		{"permission verb null", role + "spec: {permission: {Container: [Get, null]}}", "spec.permission[Container][1]: a list item must not be null"},
		{"price annotation null", rc + "spec: {product_name: p, credit: {per: {hour: 1}}, annotations: {priceUnit: null}}", "spec.annotations[priceUnit]: must not be null"},
		{"price null", rc + "spec: {product_name: p, credit: {per: {hour: null}}}", "spec.credit.per.hour: required"},
		{"kubernetes-shaped label null", "apiVersion: dora.dev/v1alpha1\nkind: Workload\nmetadata: {name: w, namespace: team-a, labels: {a: null}}\nspec: {image: {image: x}}", "document 1 (Workload w): metadata.labels[a]: must not be null"},
		{"kubernetes-shaped status item null", kube + "spec: {image: {image: x}}\nstatus: {conditions: [null]}", "status.conditions[0]: a list item must not be null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Decode([]byte(tc.doc), Defaults{})
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", docs[0].Object)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// A field given as null is absent: the same object as leaving it out, and stable across
// Encode and Decode.
func TestDecodeNullFieldsAreAbsent(t *testing.T) {
	cases := []struct {
		name, withNull, without string
	}{
		{"workload sections", "apiVersion: v1\nkind: Workload\nmetadata: {name: w, group: g, zone: null, labels: null}\nspec: {image: {image: x, pullPolicy: null}, selectors: null, config: {cmd: null, shmSize: null}, notify: null, volumes: null}",
			"apiVersion: v1\nkind: Workload\nmetadata: {name: w, group: g}\nspec: {image: {image: x}, config: {}}"},
		{"a key with nothing after it", "apiVersion: v1\nkind: User\nmetadata:\n  name: a\nspec:\n  default:\n  credits:\n    - zone: z\n      weekly: 5\n",
			"apiVersion: v1\nkind: User\nmetadata: {name: a}\nspec: {credits: [{zone: z, weekly: 5}]}"},
		{"role permission null", "apiVersion: v1\nkind: Role\nmetadata: {name: r}\nspec: {permission: null}", "apiVersion: v1\nkind: Role\nmetadata: {name: r}\nspec: {}"},
		{"optional amount null", "apiVersion: dora.dev/v1alpha1\nkind: UserCredit\nmetadata: {name: u, creationTimestamp: null}\nstatus: {zones: [{zone: z, weekly: null, asOf: null}]}",
			"apiVersion: dora.dev/v1alpha1\nkind: UserCredit\nmetadata: {name: u}\nstatus: {zones: [{zone: z}]}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustDecodeOne(t, []byte(tc.withNull), Defaults{})
			want := mustDecodeOne(t, []byte(tc.without), Defaults{})
			if diff := cmp.Diff(want.Object, got.Object); diff != "" {
				t.Errorf("null is not the same as absent (-absent +null):\n%s", diff)
			}
			out, err := Encode(got.Object)
			if err != nil {
				t.Fatal(err)
			}
			again := mustDecodeOne(t, out, Defaults{})
			if diff := cmp.Diff(doradev1.GroupVersion.String(), again.Object.GetObjectKind().GroupVersionKind().GroupVersion().String()); diff != "" {
				t.Error(diff)
			}
			if strings.Contains(tc.withNull, "apiVersion: v1\n") {
				if diff := cmp.Diff(got.Object, again.Object); diff != "" {
					t.Errorf("round trip changed the object:\n%s\n%s", diff, out)
				}
			}
		})
	}
}
