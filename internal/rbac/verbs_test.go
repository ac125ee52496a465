package rbac

import (
	"slices"
	"strings"
	"testing"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// ruleStrings shows rules as "scope group/resource:verb,verb" for comparison.
func ruleStrings(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		scope := map[Scope]string{Namespaced: "ns", Cluster: "cluster", Self: "self"}[r.Scope]
		for _, res := range r.Resources {
			out = append(out, scope+" "+r.APIGroups[0]+"/"+res+":"+strings.Join(r.Verbs, ","))
		}
	}
	slices.Sort(out)
	return out
}

// The table of what each Dora verb means in Kubernetes, read as the specification.
func TestRulesFor(t *testing.T) {
	cases := []struct {
		kind, verb string
		want       []string // nil: the verb has no Kubernetes meaning
	}{
		{"Workload", "Apply", []string{"ns dora.dev/workloads:create,update,patch"}},
		{"Workload", "Delete", []string{"ns dora.dev/workloads:delete"}},
		{"Workload", "Get", []string{"ns dora.dev/workloads:get,list,watch"}},
		{"Workload", "Describe", []string{"ns /events:get,list,watch", "ns dora.dev/workloads:get,list,watch", "ns events.k8s.io/events:get,list,watch"}},
		{"Workload", "Event", []string{"ns /events:get,list,watch", "ns events.k8s.io/events:get,list,watch"}},
		{"Workload", "Version", []string{"ns apps/controllerrevisions:get,list,watch"}},
		{"Workload", "Pause", []string{"ns dora.dev/workloads:pause"}},
		{"Workload", "Resume", []string{"ns dora.dev/workloads:resume"}},
		{"Container", "Get", []string{"ns /pods:get,list,watch"}},
		{"Container", "Delete", []string{"ns /pods:delete"}},
		{"Container", "Log", []string{"ns /pods/log:get"}},
		{"Container", "Shell", []string{"ns /pods/attach:get,create", "ns /pods/exec:get,create"}},
		{"Container", "Pause", []string{"ns dora.dev/workloads:pause"}},
		{"Container", "Apply", nil},
		{"Container", "Token", nil},
		{"Volume", "Use", []string{"ns dora.dev/volumes:use"}},
		{"Volume", "Upload", []string{"ns dora.dev/volumes:upload"}},
		{"Volume", "Download", []string{"ns dora.dev/volumes:download"}},
		{"Volume", "Ls", []string{"ns dora.dev/volumes:ls"}},
		{"Volume", "Sync", []string{"ns dora.dev/volumes:sync"}},
		{"Storage", "Get", []string{"cluster dora.dev/storages:get,list,watch"}},
		{"Storage", "Describe", []string{"cluster dora.dev/storages:get,list,watch"}},
		{"Node", "Apply", []string{"cluster dora.dev/nodes:create,update,patch"}},
		{"GPU", "Get", []string{"cluster dora.dev/nodes:get,list,watch"}},
		{"CPU", "Get", []string{"cluster dora.dev/nodes:get,list,watch"}},
		{"Resourcecredit", "Get", []string{"cluster dora.dev/resourcecredits:get,list,watch"}},
		{"Usercredit", "Get", []string{"cluster dora.dev/usercredits:get,list,watch"}},
		{"Usercredit", "GetOne", []string{"self dora.dev/usercredits:get,watch"}},
		{"Usercredit", "Describe", []string{"self dora.dev/usercredits:get,watch"}},
		{"User", "Credits", []string{"self dora.dev/usercredits:get,watch", "self dora.dev/users:credits"}},
		{"Workspace", "Clone", []string{"self dora.dev/workspaces:clone"}},
		{"Workspace", "Get", []string{"self dora.dev/workspaces:get,list,watch"}},
		{"Project", "Apply", nil},
		{"Zone", "Get", []string{"cluster dora.dev/zones:get,list,watch"}},
		{"Role", "Apply", []string{"cluster dora.dev/roles:create,update,patch"}},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.verb, func(t *testing.T) {
			rules, ok := RulesFor(tc.kind, tc.verb)
			if ok != (tc.want != nil) {
				t.Fatalf("mapped = %v, want %v", ok, tc.want != nil)
			}
			if got := ruleStrings(rules); !slices.Equal(got, tc.want) {
				t.Errorf("rules\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// Verb All is every verb of the kind; every kind but All has an entry.
func TestVerbAllIsEveryVerb(t *testing.T) {
	all, ok := RulesFor(doradev1.DoraKindVolume, doradev1.DoraVerbAll)
	if !ok {
		t.Fatal("Volume/All is not mapped")
	}
	var each []Rule
	for _, v := range VerbsOf(doradev1.DoraKindVolume) {
		r, _ := RulesFor(doradev1.DoraKindVolume, v)
		each = append(each, r...)
	}
	if !slices.Equal(ruleStrings(all), ruleStrings(each)) {
		t.Errorf("Volume/All = %v, want every verb's rules %v", ruleStrings(all), ruleStrings(each))
	}
	kinds := Kinds()
	for _, k := range []string{"Workload", "Container", "Volume", "Storage", "Node", "Workspace", "Zone", "CPU", "GPU", "Resourcecredit", "Usercredit", "User", "Role", "Project"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("kind %s is not in the verb table", k)
		}
	}
}
