package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UserDefaults are where a user's commands go when they name no zone or workspace.
type UserDefaults struct {
	// workspace is the default workspace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Workspace string `json:"workspace,omitempty"`
	// zone is the default zone.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Zone string `json:"zone,omitempty"`
}

// RoleBinding grants a Dora Role on one kind (or All) in a workspace and zone (or All).
type RoleBinding struct {
	// kind is the Dora kind the role applies to, or All.
	// +kubebuilder:validation:Enum=All;Workload;Container;Volume;Storage;Node;Workspace;Zone;CPU;GPU;Resourcecredit;Usercredit;User;Role;Project
	// +default="All"
	// +optional
	Kind string `json:"kind,omitempty"`
	// zone is the zone the role applies in, or All.
	// +kubebuilder:validation:MaxLength=63
	// +default="All"
	// +optional
	Zone string `json:"zone,omitempty"`
	// workspace is the workspace the role applies in, or All.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Workspace string `json:"workspace,omitempty"`
	// role is the name of a Dora Role.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Role string `json:"role,omitempty"`
}

// WeeklyCredits is a user's weekly budget in one zone.
type WeeklyCredits struct {
	// zone is the zone the budget applies to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Zone string `json:"zone,omitempty"`
	// weekly is the number of credits the user may spend each week, at most 1000000000.
	// +kubebuilder:validation:Maximum=1000000000
	// +required
	Weekly Amount `json:"weekly"`
}

// UserSpec configures a User.
type UserSpec struct {
	// default is where the user's commands go when they name no zone or workspace.
	// +optional
	Default *UserDefaults `json:"default,omitempty"`
	// resources binds roles to the user per kind, zone and workspace.
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	// +optional
	Resources []RoleBinding `json:"resources,omitempty"`
	// credits are the user's weekly budgets, one per zone.
	// +listType=map
	// +listMapKey=zone
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Credits []WeeklyCredits `json:"credits,omitempty"`
}

// User condition reasons (of Ready).
const (
	// ReasonGrantsBound: every grant for this zone is bound.
	ReasonGrantsBound = "GrantsBound"
	// ReasonGrantsIncomplete: a grant names a Role or workspace that does not exist; the
	// message names each such entry of spec.resources.
	ReasonGrantsIncomplete = "GrantsIncomplete"
)

// UserStatus is what the manager observed of a User.
type UserStatus struct {
	// conditions describe the user.
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
	// bound lists what the user's grants were bound to in this zone, such as "user on All
	// in namespace amedeo-setti".
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=512
	// +listType=atomic
	// +optional
	Bound []string `json:"bound,omitempty"`
}

// User is a Dora user: defaults, role bindings and weekly credits.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=du,categories=dora
// +kubebuilder:printcolumn:name="Workspace",type=string,JSONPath=`.spec.default.workspace`
// +kubebuilder:printcolumn:name="Zone",type=string,JSONPath=`.spec.default.zone`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type User struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata: its name, labels and annotations.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec configures the user.
	// +optional
	Spec UserSpec `json:"spec,omitempty,omitzero"`

	// status is what the manager observed.
	// +optional
	Status UserStatus `json:"status,omitempty"`
}

// UserList is a list of Users.
// +kubebuilder:object:root=true
type UserList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []User `json:"items"`
}

func init() {
	register(&User{}, &UserList{})
}
