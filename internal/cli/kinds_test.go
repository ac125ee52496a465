package cli

import (
	"strings"
	"testing"
)

func TestLookupKindKnowsDorasNamesAliasesAndResources(t *testing.T) {
	cases := map[string]string{
		"wk": "Workload", "workload": "Workload", "Workloads": "Workload", "wks": "Workload", "workloads.dora.dev": "Workload",
		"workload.dora.dev": "Workload",
		"c":                 "Container", "container": "Container", "containers": "Container",
		"node": "Node", "nodes": "Node", "dn": "Node",
		"ws": "Workspace", "workspace": "Workspace", "workspaces": "Workspace",
		"vol": "Volume", "vols": "Volume", "volume": "Volume", "volumes": "Volume",
		"storage": "Storage", "storages": "Storage", "sto": "Storage",
		"rc": "Resourcecredit", "resourcecredit": "Resourcecredit", "Resourcecredit": "Resourcecredit", "ResourceCredit": "Resourcecredit", "resourcecredits": "Resourcecredit",
		"uc": "Usercredit", "usercredit": "Usercredit", "usercredits": "Usercredit", "UserCredit": "Usercredit",
		"zone": "Zone", "zones": "Zone", "z": "Zone",
		"user": "User", "users": "User", "du": "User",
		"role": "Role", "roles": "Role", "dr": "Role",
		" WK ": "Workload",
	}
	for name, want := range cases {
		k, ok := LookupKind(name)
		if !ok || k.Dora != want {
			t.Errorf("LookupKind(%q) = %q, %t; want %q", name, k.Dora, ok, want)
		}
	}
	for _, name := range []string{"pods", "pod", "deployment", "gpu", "", "rcs"} {
		if k, ok := LookupKind(name); ok {
			t.Errorf("LookupKind(%q) = %q, want none", name, k.Dora)
		}
	}
}

func TestKindsSayWhichLiveInAWorkspaceAndWhichInEveryZone(t *testing.T) {
	namespaced := map[string]bool{"Workload": true, "Container": true, "Volume": true}
	everyZone := map[string]bool{"User": true, "Role": true, "Workspace": true, "Zone": true}
	for _, k := range Kinds {
		if k.Namespaced != namespaced[k.Dora] {
			t.Errorf("%s: namespaced = %t", k.Dora, k.Namespaced)
		}
		if k.Zoned == everyZone[k.Dora] {
			t.Errorf("%s: zoned = %t", k.Dora, k.Zoned)
		}
		if k.New == nil || k.New() == nil {
			t.Errorf("%s: no typed object", k.Dora)
		}
	}
}

func TestAnUnknownKindListsTheKindsAndTheNearestName(t *testing.T) {
	err := &UnknownKindError{Name: "wrokload", Extra: []string{"gpus"}}
	for _, want := range []string{`unknown kind "wrokload"`, "workloads (wk)", "containers (c)", "resourcecredits (rc)", "gpus", `did you mean "workload"?`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestKindsNameTheirObjectsAsKubectlDoes(t *testing.T) {
	wk, _ := LookupKind("wk")
	c, _ := LookupKind("c")
	rc, _ := LookupKind("rc")
	for got, want := range map[string]string{
		wk.Ref(): "workload.dora.dev", wk.GroupResource(): "workloads.dora.dev", wk.Plural(): "workloads",
		c.Ref(): "pod", c.Plural(): "containers", c.Singular(): "container",
		rc.Ref(): "resourcecredit.dora.dev", rc.Singular(): "resourcecredit",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
