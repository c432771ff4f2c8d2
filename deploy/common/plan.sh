#!/usr/bin/env bash
# shellcheck disable=SC2034 # the variables these functions set (KAFKA_ONLY, KUBEVIRT, STEP, ...) are read by up.sh
# The machinery every deploy/<cloud>/up.sh shares, sourced once its flags are
# read: --dry-run (run, exists and query print a command instead of running
# it), the prerequisites (need, then missing_stop), the overlay and components
# (check_components, uses), the image tag and --resume (start_progress, step,
# done_step, on_error). Functions only; each reads the variables its comment
# names, which up.sh sets: ROOT, DRY_RUN, RESUME, STATE, TAG, OVERLAY,
# COMPONENTS, ARGS.

say() { printf '\n== %s\n' "$*"; }

# run CMD...: runs it, or with --dry-run prints it (quoted as a shell would need it).
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

# exists CMD...: whether a describe/get succeeds; with --dry-run nothing exists yet (and with SHOW_LOOKUPS=1
# the lookup is printed too, as every command a real run would run).
exists() {
  if [ "$DRY_RUN" = 1 ]; then
    if [ "${SHOW_LOOKUPS:-0}" = 1 ]; then run "$@"; fi
    return 1
  fi
  "$@" >/dev/null 2>&1
}

# query VAR PLACEHOLDER CMD...: VAR set to what CMD prints (the AWS CLI's "None" and an empty answer both
# become ""); with --dry-run the command is printed, not run, and VAR is PLACEHOLDER.
query() {
  local var=$1 placeholder=$2 out
  shift 2
  if [ "$DRY_RUN" = 1 ]; then
    run "$@"
    out=$placeholder
  else
    out=$("$@")
    if [ "$out" = None ]; then out=''; fi
  fi
  printf -v "$var" '%s' "$out"
}

# need COMMAND HINT: records COMMAND as missing (with where to get it) when it is not on PATH.
MISSING=()
need() { command -v "$1" >/dev/null 2>&1 || MISSING+=("$1: $2"); }

# need_engine: ENGINE is podman or docker (CONTAINER_ENGINE, or the first on PATH), unless --skip-images.
need_engine() {
  if [ "$SKIP_IMAGES" = 0 ]; then
    if [ -z "$ENGINE" ]; then
      if command -v podman >/dev/null 2>&1; then ENGINE=podman; elif command -v docker >/dev/null 2>&1; then ENGINE=docker; fi
    fi
    [ -n "$ENGINE" ] || MISSING+=('podman or docker: builds and pushes the images (https://podman.io/docs/installation); or --skip-images')
  fi
}

# missing_stop: a real run stops when anything is missing, naming each; a dry run says so and goes on.
missing_stop() {
  if [ "${#MISSING[@]}" -gt 0 ]; then
    if [ "$DRY_RUN" = 0 ]; then
      printf 'up.sh: missing: %s\n' "${MISSING[@]}" >&2
      exit 1
    fi
    printf '# a real run would stop here, missing: %s\n' "${MISSING[@]}"
  fi
}

# version_at_least HAVE MIN: whether dotted version HAVE is MIN or newer.
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n1)" = "$2" ]
}

# includes DIR COMPONENT: whether the kustomization in DIR lists the component, or one of its components does
includes() {
  local path
  while read -r path; do
    if [ "${path##*/}" = "$2" ] || includes "$1/$path" "$2"; then return 0; fi
  done < <(sed -n '/^components:/,/^[a-z]/s/^  - //p' "$1/kustomization.yaml")
  return 1
}

# uses COMPONENT: whether the chosen components, or the overlay itself, include it (OVERLAY, COMPONENTS)
uses() { case ",$COMPONENTS," in *,"$1",*) return 0 ;; esac; includes "$ROOT/deploy/k8s/overlays/$OVERLAY" "$1"; }

# check_components: the overlay and each chosen component exist (exit 2 otherwise); kafka-only is put last
# (it deletes what the other components may add or patch: deploy/k8s validates that order); KAFKA_ONLY and
# KUBEVIRT say whether the system has those components.
check_components() {
  local c ordered=''
  [ -f "$ROOT/deploy/k8s/overlays/$OVERLAY/kustomization.yaml" ] || { echo "up.sh: no overlay $OVERLAY in deploy/k8s/overlays" >&2; exit 2; }
  for c in ${COMPONENTS//,/ }; do
    [ -f "$ROOT/deploy/k8s/components/$c/kustomization.yaml" ] || { echo "up.sh: no component $c in deploy/k8s/components" >&2; exit 2; }
  done
  case ",$COMPONENTS," in
    *,kafka-only,*)
      for c in ${COMPONENTS//,/ }; do [ "$c" = kafka-only ] || ordered="$ordered$c,"; done
      COMPONENTS="${ordered}kafka-only"
      ;;
  esac
  KAFKA_ONLY=0; if uses kafka-only; then KAFKA_ONLY=1; fi
  KUBEVIRT=0; if uses valkey-kubevirt; then KUBEVIRT=1; fi
}

# start_progress: STATE (gitignored: the registry's login, the generated kustomization, a run's progress)
# made, and TAG chosen: --tag, or the tag the run being resumed used, or the commit; a work tree with changes
# gets a tag of its own each run (-dirty-<UTC time>), so re-deploying changed code always rolls the pods.
start_progress() {
  PROGRESS="$STATE/progress"
  if [ "$DRY_RUN" = 0 ]; then
    mkdir -p "$STATE" && chmod 700 "$STATE"
    if [ "$RESUME" = 0 ]; then rm -f "$PROGRESS"; fi
    touch "$PROGRESS"
  fi
  if [ -z "$TAG" ] && [ "$RESUME" = 1 ] && [ -f "$PROGRESS" ]; then TAG=$(sed -n 's/^tag=//p' "$PROGRESS" | tail -n1); fi
  if [ -z "$TAG" ]; then
    TAG=$(git -C "$ROOT" rev-parse --short HEAD)
    if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then TAG="$TAG-dirty-$(date -u +%Y%m%d%H%M%S)"; fi
  fi
  if [ "$DRY_RUN" = 0 ]; then echo "tag=$TAG" >> "$PROGRESS"; fi
  STEP=0
}

# step N TITLE: prints the step's title; false when --resume skips it (the run resumed finished it).
step() {
  STEP=$1
  if [ "$RESUME" = 1 ] && grep -qx "done=$1" "$PROGRESS" 2>/dev/null; then say "$1. $2: done by the run resumed, skipped"; return 1; fi
  say "$1. $2"
}
done_step() { if [ "$DRY_RUN" = 0 ]; then echo "done=$STEP" >> "$PROGRESS"; fi; }

# on_error: the trap of up.sh's ERR: which step failed, and the command that resumes.
on_error() {
  echo "up.sh: step $STEP failed (above). Fix the cause, then run it again with --resume: the steps done are skipped, and every step is idempotent." >&2
  printf 'up.sh: %q' "$0" >&2; printf ' %q' "${ARGS[@]}" --resume >&2; printf '\n' >&2
}

# hook NAME: runs the function NAME when up.sh defines it (what one cloud adds to a shared step).
hook() { if declare -F "$1" >/dev/null; then "$1"; fi; }
