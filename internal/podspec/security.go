package podspec

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Workload pods run in workspace namespaces, which enforce the workspace's Pod Security
// level (spec.podSecurity, baseline by default). Every pod BuildPod makes passes baseline:
// no privileged container, no added capability, no hostPath volume (only claims and
// memory-backed emptyDirs), no host port, no host PID or IPC, and a RuntimeDefault seccomp
// profile that baseline allows and every container runtime has. Privilege escalation
// (setuid binaries, no_new_privs unset) is off too. The image's own user is kept: the
// images Dora users run (ubuntu, the CUDA and framework images) run as root, which
// baseline allows, and the runtime's default capabilities stay for them.
//
// The one exception is network.mode host: a pod on the host network (whose container
// ports become host ports) is outside baseline, so it is admitted only in a workspace with
// podSecurity privileged. The Workspace schema requires that of every workspace with
// allowHostNetwork, the only ones whose workloads may use the host network.
//
// In a restricted workspace the pod also must not run as root and drops every capability;
// an image that runs as root then fails to start, with the kubelet's reason in the
// container's state, rather than being refused at admission.

// podSecurityContext is every pod's security context.
func podSecurityContext() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// containerSecurityContext is the workload container's security context for the Pod
// Security level of its workspace ("" is baseline).
func containerSecurityContext(level string) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}
	if level == doradev1.PodSecurityRestricted {
		sc.RunAsNonRoot = ptr.To(true)
		sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	}
	return sc
}
