package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// grants is an Authorizer for unit tests: the requests it allows, as
// "user verb resource/name@namespace"; "*" allows everything.
type grants map[string]bool

func (g grants) allowAll() grants { return grants{"*": true} }

func (g grants) Allowed(_ context.Context, user authenticationv1.UserInfo, ra authorizationv1.ResourceAttributes) (bool, error) {
	return g["*"] || g[user.Username+" "+ra.Verb+" "+ra.Resource+"/"+ra.Name+"@"+ra.Namespace], nil
}

func request(t *testing.T, op admissionv1.Operation, user, namespace string, obj, old client.Object) admission.Request {
	t.Helper()
	raw := func(o client.Object) runtime.RawExtension {
		if o == nil {
			return runtime.RawExtension{}
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: b}
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid", Operation: op, Namespace: namespace, Name: obj.GetName(),
		UserInfo: authenticationv1.UserInfo{Username: user},
		Object:   raw(obj), OldObject: raw(old),
	}}
}

func owned(name, owner string) *doradev1.Workload {
	wl := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "amedeo-setti"}}
	if owner != "" {
		wl.Annotations = map[string]string{doradev1.AnnotationOwner: owner}
	}
	return wl
}

// The owner is who creates an object, whatever they write; it stays; only a requester with
// assign on users/<name> may name another.
func TestOwnerMutator(t *testing.T) {
	users := testclient.Objects(&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"}}, &doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "ivan.rossi"}})
	m := OwnerMutator{UsernamePrefix: "oidc:", Authorizer: grants{"system:serviceaccount:argocd:app assign users/amedeo.setti@": true}, Users: users}
	cases := []struct {
		name     string
		op       admissionv1.Operation
		user     string
		obj, old *doradev1.Workload
		// patched is the owner the response stamps; "" for no patch.
		patched string
		denied  []string
	}{
		{name: "a user's new workload is theirs", op: admissionv1.Create, user: "oidc:amedeo.setti", obj: owned("a", ""), patched: "amedeo.setti"},
		{name: "naming oneself is fine", op: admissionv1.Create, user: "oidc:amedeo.setti", obj: owned("a", "amedeo.setti")},
		{name: "naming someone else is refused", op: admissionv1.Create, user: "oidc:ivan.rossi", obj: owned("a", "amedeo.setti"),
			denied: []string{"metadata.annotations[dora.dev/owner]", "oidc:ivan.rossi", `owner to "amedeo.setti"`, "assign on users/amedeo.setti"}},
		{name: "a GitOps service account with assign may name the user", op: admissionv1.Create, user: "system:serviceaccount:argocd:app", obj: owned("a", "amedeo.setti")},
		{name: "an administrator's object without an owner stays unowned", op: admissionv1.Create, user: "system:admin", obj: owned("a", "")},
		{name: "a name without the prefix is no Dora user: unowned", op: admissionv1.Create, user: "amedeo.setti", obj: owned("a", "")},
		{name: "someone with no Dora User is no Dora user: unowned", op: admissionv1.Create, user: "oidc:nobody", obj: owned("a", "")},
		{name: "an update keeping the owner is fine", op: admissionv1.Update, user: "oidc:amedeo.setti", obj: owned("a", "amedeo.setti"), old: owned("a", "amedeo.setti")},
		{name: "an update dropping the owner gets it back", op: admissionv1.Update, user: "oidc:amedeo.setti", obj: owned("a", ""), old: owned("a", "amedeo.setti"), patched: "amedeo.setti"},
		{name: "taking over someone's workload is refused", op: admissionv1.Update, user: "oidc:ivan.rossi", obj: owned("a", "ivan.rossi"), old: owned("a", "amedeo.setti"),
			denied: []string{"change from amedeo.setti", `"ivan.rossi"`}},
		{name: "an owner's own change to another is refused", op: admissionv1.Update, user: "oidc:amedeo.setti", obj: owned("a", "ivan.rossi"), old: owned("a", "amedeo.setti"),
			denied: []string{"assign on users/ivan.rossi"}},
		{name: "claiming an unowned object is refused", op: admissionv1.Update, user: "oidc:ivan.rossi", obj: owned("a", "ivan.rossi"), old: owned("a", ""),
			denied: []string{"may not set the owner"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var old client.Object
			if tc.old != nil {
				old = tc.old
			}
			resp := m.Handle(context.Background(), request(t, tc.op, tc.user, "amedeo-setti", tc.obj, old))
			if len(tc.denied) > 0 {
				if resp.Allowed {
					t.Fatalf("allowed, want refused with %q", tc.denied)
				}
				for _, s := range tc.denied {
					if !strings.Contains(resp.Result.Message, s) {
						t.Errorf("message %q does not say %q", resp.Result.Message, s)
					}
				}
				return
			}
			if !resp.Allowed {
				t.Fatalf("refused: %s", resp.Result.Message)
			}
			if tc.patched == "" {
				if len(resp.Patches) > 0 {
					t.Errorf("patched %v, want no change", resp.Patches)
				}
				return
			}
			if len(resp.Patches) != 1 || !strings.Contains(resp.Patches[0].Path, "/metadata/annotations") {
				t.Fatalf("patches %v, want one setting the owner", resp.Patches)
			}
			got, _ := json.Marshal(resp.Patches[0].Value)
			if !strings.Contains(string(got), tc.patched) {
				t.Errorf("patch value %s, want owner %s", got, tc.patched)
			}
		})
	}
}

// The Users are read from the cache; a User the cache does not have yet (created a moment
// ago) is looked for with the live reader, so that their first workload is theirs.
func TestOwnerMutatorFindsAUserTheCacheLacks(t *testing.T) {
	cache := testclient.Objects()
	live := testclient.Objects(&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"}})
	req := request(t, admissionv1.Create, "amedeo.setti", "amedeo-setti", owned("a", ""), nil)

	resp := OwnerMutator{Users: cache, Live: live}.Handle(context.Background(), req)
	if !resp.Allowed || len(resp.Patches) != 1 {
		t.Fatalf("a User only the live reader has: allowed %v, patches %v; want the owner stamped", resp.Allowed, resp.Patches)
	}
	resp = OwnerMutator{Users: cache}.Handle(context.Background(), req)
	if !resp.Allowed || len(resp.Patches) != 0 {
		t.Fatalf("no User anywhere: allowed %v, patches %v; want the workload left unowned", resp.Allowed, resp.Patches)
	}
}

func workloadWith(change func(*doradev1.Workload)) *doradev1.Workload {
	wl := &doradev1.Workload{TypeMeta: metav1.TypeMeta{APIVersion: "dora.dev/v1alpha1", Kind: "Workload"},
		ObjectMeta: metav1.ObjectMeta{Name: "blue.red", Namespace: "amedeo-setti"}}
	change(wl)
	return wl
}

// Pausing, resuming and mounting another workspace's volume need Dora's verbs; a device
// variable is never accepted; the refusal names the user, the verb, the object and the grant.
func TestWorkloadAccess(t *testing.T) {
	v := WorkloadValidator{Authorizer: grants{
		"amedeo.setti pause workloads/blue.red@amedeo-setti": true,
		"amedeo.setti use volumes/imagenet@datasets":         true,
	}}
	running := workloadWith(func(*doradev1.Workload) {})
	paused := workloadWith(func(wl *doradev1.Workload) { wl.Spec.Paused = true })
	datasets := workloadWith(func(wl *doradev1.Workload) {
		wl.Spec.Volumes = []doradev1.WorkloadVolume{{Name: "imagenet", Workspace: "datasets", Target: "/data"}}
	})
	secret := workloadWith(func(wl *doradev1.Workload) {
		wl.Spec.Volumes = []doradev1.WorkloadVolume{{Name: "home", Group: "ivan.rossi", Target: "/ivan"}}
	})
	devices := workloadWith(func(wl *doradev1.Workload) {
		wl.Spec.Config = &doradev1.ContainerConfig{Env: []string{"OK=1", "NVIDIA_VISIBLE_DEVICES=all", "CUDA_MPS_PIPE_DIRECTORY=/x"}}
	})
	cases := []struct {
		name     string
		op       admissionv1.Operation
		user     string
		obj, old *doradev1.Workload
		denied   []string
	}{
		{name: "pause with the verb", op: admissionv1.Update, user: "amedeo.setti", obj: paused, old: running},
		{name: "resume without it", op: admissionv1.Update, user: "amedeo.setti", obj: running, old: paused,
			denied: []string{"spec.paused", "amedeo.setti may not resume workload blue.red", "Dora verb Resume on Workload", "Workload: [Resume]"}},
		{name: "another user's pause", op: admissionv1.Update, user: "ivan.rossi", obj: paused, old: running, denied: []string{"ivan.rossi may not pause"}},
		{name: "created paused needs nothing", op: admissionv1.Create, user: "ivan.rossi", obj: paused},
		{name: "a granted volume of datasets", op: admissionv1.Create, user: "amedeo.setti", obj: datasets},
		{name: "another user's volume", op: admissionv1.Create, user: "amedeo.setti", obj: secret,
			denied: []string{"spec.volumes[0]", "may not use volume home of workspace ivan.rossi", "Dora verb Use on Volume"}},
		{name: "a volume already mounted is not asked again", op: admissionv1.Update, user: "ivan.rossi", obj: datasets, old: datasets},
		{name: "device variables are refused", op: admissionv1.Create, user: "amedeo.setti", obj: devices,
			denied: []string{"spec.config.env[1]", "NVIDIA_VISIBLE_DEVICES chooses the devices", "spec.config.env[2]", "selectors.gpu"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var old client.Object
			if tc.old != nil {
				old = tc.old
			}
			resp := v.Handle(context.Background(), request(t, tc.op, tc.user, "amedeo-setti", tc.obj, old))
			if resp.Allowed != (len(tc.denied) == 0) {
				t.Fatalf("allowed = %v (%v), want %v", resp.Allowed, resp.Result, len(tc.denied) == 0)
			}
			for _, s := range tc.denied {
				if !strings.Contains(resp.Result.Message, s) {
					t.Errorf("message %q does not say %q", resp.Result.Message, s)
				}
			}
		})
	}
}

// Cloning needs Clone on the source, and Download on its volumes to copy the data; host
// networking is an administrator's.
func TestWorkspaceAccess(t *testing.T) {
	source := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"}}
	v := WorkspaceValidator{Reader: workspaces(t, source), Authorizer: grants{
		"amedeo.setti clone workspaces/amedeo.setti@": true,
		"ops create roles/@":                          true,
		"ivan.rossi clone workspaces/amedeo.setti@":   true,
		"amedeo.setti download volumes/@amedeo-setti": true,
	}}
	ws := func(change func(*doradev1.Workspace)) *doradev1.Workspace {
		w := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "copy"}}
		change(w)
		return w
	}
	clone := ws(func(w *doradev1.Workspace) { w.Spec.CloneFrom = "amedeo.setti" })
	cloneData := ws(func(w *doradev1.Workspace) { w.Spec.CloneFrom, w.Spec.CopyData = "amedeo.setti", true })
	host := ws(func(w *doradev1.Workspace) {
		w.Spec.AllowHostNetwork, w.Spec.PodSecurity = true, doradev1.PodSecurityPrivileged
	})
	level := func(l string) *doradev1.Workspace { return ws(func(w *doradev1.Workspace) { w.Spec.PodSecurity = l }) }
	cases := []struct {
		name     string
		op       admissionv1.Operation
		user     string
		obj, old *doradev1.Workspace
		denied   []string
	}{
		{name: "clone with the verb", op: admissionv1.Create, user: "amedeo.setti", obj: clone},
		{name: "clone without it", op: admissionv1.Create, user: "mallory", obj: clone,
			denied: []string{"spec.cloneFrom", "mallory may not clone workspace amedeo.setti", "Workspace: [Clone]"}},
		{name: "copy the data with download", op: admissionv1.Create, user: "amedeo.setti", obj: cloneData},
		{name: "copy the data without it", op: admissionv1.Create, user: "ivan.rossi", obj: cloneData,
			denied: []string{"spec.copyData", "ivan.rossi may not copy the data", "Download on Volume"}},
		{name: "host network by an administrator", op: admissionv1.Create, user: "ops", obj: host},
		{name: "host network by a user", op: admissionv1.Create, user: "amedeo.setti", obj: host,
			denied: []string{"spec.allowHostNetwork", "administrator's choice"}},
		{name: "host network turned on later by a user", op: admissionv1.Update, user: "amedeo.setti", obj: host, old: ws(func(*doradev1.Workspace) {}),
			denied: []string{"spec.allowHostNetwork"}},
		{name: "an update keeping it needs nothing", op: admissionv1.Update, user: "amedeo.setti", obj: host, old: host},
		{name: "a tenant's workspace at the default level", op: admissionv1.Create, user: "amedeo.setti", obj: level(doradev1.PodSecurityBaseline)},
		{name: "a tenant's privileged workspace", op: admissionv1.Create, user: "amedeo.setti", obj: level(doradev1.PodSecurityPrivileged),
			denied: []string{"spec.podSecurity", "from baseline to privileged", "administrator's choice"}},
		{name: "a tenant undoing an administrator's restricted", op: admissionv1.Update, user: "amedeo.setti", obj: level(doradev1.PodSecurityBaseline), old: level(doradev1.PodSecurityRestricted),
			denied: []string{"from restricted to baseline"}},
		{name: "an administrator's restricted", op: admissionv1.Update, user: "ops", obj: level(doradev1.PodSecurityRestricted), old: level(doradev1.PodSecurityBaseline)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var old client.Object
			if tc.old != nil {
				old = tc.old
			}
			expectVerdict(t, v.Handle(context.Background(), request(t, tc.op, tc.user, "", tc.obj, old)), tc.denied)
		})
	}
}
