package workspace

import (
	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// The Pod Security Admission labels of a namespace
// (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
const (
	// LabelPodSecurityEnforce makes the API server refuse pods that break the level.
	LabelPodSecurityEnforce = "pod-security.kubernetes.io/enforce"
	// LabelPodSecurityAudit records such pods in the audit log.
	LabelPodSecurityAudit = "pod-security.kubernetes.io/audit"
	// LabelPodSecurityWarn warns whoever applies such a pod, or a workload template of one.
	LabelPodSecurityWarn = "pod-security.kubernetes.io/warn"
)

// podSecurityLevel is the Pod Security level a workspace asks for: spec.podSecurity, or
// baseline when it is left out (the API server fills the default in; a workspace read
// from elsewhere may not have it).
func podSecurityLevel(ws *doradev1.Workspace) string {
	switch level := ws.Spec.PodSecurity; level {
	case doradev1.PodSecurityPrivileged, doradev1.PodSecurityRestricted:
		return level
	default:
		// The schema allows no other value; an unknown one is held to the default rather
		// than loosened.
		return doradev1.PodSecurityBaseline
	}
}

// namespaceLabels are the labels the workspace controller keeps on a workspace's
// namespace: the workspace it belongs to, and its Pod Security level enforced, audited and
// warned about. The ValidatingAdmissionPolicies of config/tenancy select the namespaces
// they lock down by the first; Pod Security Admission reads the others.
func namespaceLabels(ws *doradev1.Workspace) map[string]string {
	level := podSecurityLevel(ws)
	return map[string]string{
		doradev1.LabelWorkspace: ws.Name,
		LabelPodSecurityEnforce: level,
		LabelPodSecurityAudit:   level,
		LabelPodSecurityWarn:    level,
	}
}

// labelsToSet are the labels of want that current lacks or holds another value for: what
// a patch must set so that the namespace carries want, leaving every other label alone.
// It is empty when the namespace is in line.
func labelsToSet(current, want map[string]string) map[string]string {
	out := map[string]string{}
	for key, value := range want {
		if got, ok := current[key]; !ok || got != value {
			out[key] = value
		}
	}
	return out
}
