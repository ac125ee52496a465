package v1alpha1

// AnnotationOwner names the Dora user a Workload, Workspace or Volume belongs to (the one
// credits charge). The admission webhook stamps it at creation from the authenticated user
// and keeps it: only a requester with the verb assign on users/<name> may set or change it.
const AnnotationOwner = "dora.dev/owner"

// Dora kinds as Roles and Users name them (Role.spec.permission keys, User.spec.resources[].kind).
const (
	DoraKindAll            = All
	DoraKindWorkload       = "Workload"
	DoraKindContainer      = "Container"
	DoraKindVolume         = "Volume"
	DoraKindStorage        = "Storage"
	DoraKindNode           = "Node"
	DoraKindWorkspace      = "Workspace"
	DoraKindZone           = "Zone"
	DoraKindCPU            = "CPU"
	DoraKindGPU            = "GPU"
	DoraKindResourcecredit = "Resourcecredit"
	DoraKindUsercredit     = "Usercredit"
	DoraKindUser           = "User"
	DoraKindRole           = "Role"
	DoraKindProject        = "Project"
)

// Dora verbs as Roles name them (Role.spec.permission values).
const (
	DoraVerbAll      = All
	DoraVerbApply    = "Apply"
	DoraVerbDelete   = "Delete"
	DoraVerbGet      = "Get"
	DoraVerbGetOne   = "GetOne"
	DoraVerbDescribe = "Describe"
	DoraVerbEvent    = "Event"
	DoraVerbVersion  = "Version"
	DoraVerbLog      = "Log"
	DoraVerbShell    = "Shell"
	DoraVerbToken    = "Token"
	DoraVerbPause    = "Pause"
	DoraVerbResume   = "Resume"
	DoraVerbUse      = "Use"
	DoraVerbClone    = "Clone"
	DoraVerbUpload   = "Upload"
	DoraVerbDownload = "Download"
	DoraVerbLs       = "Ls"
	DoraVerbSync     = "Sync"
	DoraVerbCredits  = "Credits"
)

// Kubernetes RBAC verbs the project defines on its own resources for Dora verbs with no
// Kubernetes twin. RBAC accepts any verb string; the admission webhook and the kubectl
// plugin check them with SubjectAccessReviews before they act.
const (
	// VerbPause on workloads: set spec.paused to true.
	VerbPause = "pause"
	// VerbResume on workloads: set spec.paused to false.
	VerbResume = "resume"
	// VerbUse on volumes: mount the volume from another workspace.
	VerbUse = "use"
	// VerbClone on workspaces: clone the workspace (spec.cloneFrom names it).
	VerbClone = "clone"
	// VerbUpload, VerbDownload, VerbLs and VerbSync on volumes: move data in and out.
	VerbUpload   = "upload"
	VerbDownload = "download"
	VerbLs       = "ls"
	VerbSync     = "sync"
	// VerbCredits on users: read the user's credits.
	VerbCredits = "credits"
	// VerbAssign on users/<name>: stamp or change dora.dev/owner to that user (for GitOps
	// service accounts that apply on a user's behalf).
	VerbAssign = "assign"
)
