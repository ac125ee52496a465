package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RoleSpec lists what a role may do.
type RoleSpec struct {
	// permission maps a Dora kind to the verbs allowed on it, such as
	// Workload: [Apply, Delete, Get].
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, self[k].size() <= 32)",message="permission allows at most 32 verbs per kind, such as Workload: [Apply, Delete, Get]; All stands for every verb"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['All','Workload','Container','Volume','Storage','Node','Workspace','Zone','CPU','GPU','Resourcecredit','Usercredit','User','Role','Project'])",message="permission keys must be Dora kinds: All, Workload, Container, Volume, Storage, Node, Workspace, Zone, CPU, GPU, Resourcecredit, Usercredit, User, Role or Project"
	// +optional
	Permission map[string][]string `json:"permission,omitempty"`
}

// RoleStatus is what the manager observed of a Role.
type RoleStatus struct {
	// conditions describe the role.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation this status describes.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9007199254740991
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// clusterRole is the Kubernetes ClusterRole made from this role.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClusterRole string `json:"clusterRole,omitempty"`
	// clusterRoles lists every ClusterRole made from this role: its namespaced rules, its
	// cluster-scoped rules, and one per kind.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=atomic
	// +optional
	ClusterRoles []string `json:"clusterRoles,omitempty"`
	// unmappedVerbs lists, as Kind/Verb, the verbs the role names that have no Kubernetes
	// meaning (Token, anything on Project): accepted, and granting nothing.
	// +kubebuilder:validation:MaxItems=512
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=atomic
	// +optional
	UnmappedVerbs []string `json:"unmappedVerbs,omitempty"`
}

// Role condition reasons (of Ready).
const (
	// ReasonClusterRolesMade: the role's ClusterRoles match its permissions.
	ReasonClusterRolesMade = "ClusterRolesMade"
)

// Role is a Dora role: the verbs allowed on each kind. It becomes a ClusterRole.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=dr,categories=dora
// +kubebuilder:printcolumn:name="ClusterRole",type=string,JSONPath=`.status.clusterRole`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Role struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec lists the permissions.
	// +optional
	Spec RoleSpec `json:"spec,omitempty,omitzero"`

	// status is what the manager observed.
	// +optional
	Status RoleStatus `json:"status,omitempty"`
}

// RoleList is a list of Roles.
// +kubebuilder:object:root=true
type RoleList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Role `json:"items"`
}

func init() {
	register(&Role{}, &RoleList{})
}
