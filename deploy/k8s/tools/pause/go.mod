// The pod sandbox image's one command (no dependency).
module tweets.local/k8s-tools/pause

go 1.26.0
