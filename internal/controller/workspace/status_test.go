package workspace

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestClassify(t *testing.T) {
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "a.b", UID: "ws-uid"}}
	owned := metav1.OwnerReference{APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: "a.b", UID: "ws-uid", Controller: ptr.To(true)}
	other := owned
	other.UID = "other-uid"
	now := metav1.NewTime(time.Now())
	cases := []struct {
		name string
		ns   *corev1.Namespace
		want namespaceState
	}{
		{"missing", nil, namespaceMissing},
		{"owned", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{owned}}}, namespaceOwned},
		{"unowned", &corev1.Namespace{}, namespaceForeign},
		{"owned by a workspace of the same name that was deleted", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{other}}}, namespaceForeign},
		{"owned and terminating", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{owned}, DeletionTimestamp: &now}}, namespaceTerminating},
		{"foreign and terminating", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}}, namespaceTerminating},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(ws, tc.ns); got != tc.want {
				t.Errorf("classify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConditionsFor(t *testing.T) {
	cases := []struct {
		state      namespaceState
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		{namespaceOwned, metav1.ConditionTrue, doradev1.ReasonNamespaceOwned},
		{namespaceForeign, metav1.ConditionFalse, doradev1.ReasonNamespaceClash},
		{namespaceTerminating, metav1.ConditionFalse, doradev1.ReasonNamespaceTerminating},
		{namespaceMissing, metav1.ConditionFalse, "NamespaceMissing"},
	}
	for _, tc := range cases {
		conds := conditionsFor("a-b", tc.state)
		if len(conds) != 2 || conds[0].Type != doradev1.WorkspaceNamespaceReady || conds[1].Type != doradev1.ConditionReady {
			t.Fatalf("state %v: conditions = %+v", tc.state, conds)
		}
		for _, c := range conds {
			if c.Status != tc.wantStatus || c.Reason != tc.wantReason || c.Message == "" {
				t.Errorf("state %v: %s = %s/%s %q, want %s/%s", tc.state, c.Type, c.Status, c.Reason, c.Message, tc.wantStatus, tc.wantReason)
			}
		}
	}
}
