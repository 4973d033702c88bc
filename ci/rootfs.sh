# rootfs.sh: the minimal Debian 12 root file system that ci/fresh-machine and ci/deploy-test share (sourced, not run).
#
# rootfs_tarball          the cached debootstrap --variant=minbase tarball's path,
#                         built when missing or older than a week
# rootfs_unpack TAR ROOT  a fresh copy at ROOT with the host's apt sources and
#                         configuration, resolver, CA certificates and npm configuration
# rootfs_mount ROOT       /proc, /sys, /dev, /dev/pts, /dev/shm (rootfs_umount undoes it)
# rootfs_sh ROOT SCRIPT   runs SCRIPT as root in ROOT, with a clean environment
# rootfs_cleanup ROOT     kills what still runs in ROOT, unmounts what was mounted
#
# The cache is $DOSNAP_CI_CACHE, default /var/cache/dosnap-ci.  Needs root.

rootfs_cache=${DOSNAP_CI_CACHE:-/var/cache/dosnap-ci}
rootfs_suite=bookworm
rootfs_max_age_days=7
rootfs_mounted=

rootfs_say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

rootfs_tarball() {
	_t=$rootfs_cache/debian-12-$rootfs_suite-minbase-$(dpkg --print-architecture 2>/dev/null || uname -m).tar.gz
	mkdir -p "$rootfs_cache"
	if [ -f "$_t" ] && [ -z "$(find "$_t" -mtime +$((rootfs_max_age_days - 1)) 2>/dev/null)" ]; then
		rootfs_say "root file system: $_t (cached, $(( ($(date +%s) - $(stat -c %Y "$_t")) / 3600 )) h old)"
		echo "$_t"
		return 0
	fi
	command -v debootstrap >/dev/null 2>&1 || "${0%/*}/install-deps" --tools >&2 || return 1
	# The host's Debian mirror: the first non-security URI of its sources.
	_m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }
		     /^deb / && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; exit } }')
	_m=${_m:-http://deb.debian.org/debian}
	rootfs_say "root file system: building $_t (debootstrap --variant=minbase $rootfs_suite $_m; the cache is missing or older than $rootfs_max_age_days days)"
	_b=$(mktemp -d "$rootfs_cache/build.XXXXXX")
	if ! debootstrap --variant=minbase "$rootfs_suite" "$_b/root" "$_m" >"$rootfs_cache/debootstrap.log" 2>&1; then
		tail -n 30 "$rootfs_cache/debootstrap.log" >&2
		rm -rf "$_b"
		rootfs_say "debootstrap failed; its log: $rootfs_cache/debootstrap.log"
		return 1
	fi
	rm -rf "$_b/root/var/cache/apt/archives/"*.deb "$_b/root/var/lib/apt/lists/"*
	tar -C "$_b/root" --numeric-owner -czf "$_b/root.tar.gz" . && mv "$_b/root.tar.gz" "$_t"
	rm -rf "$_b"
	echo "$_t"
}

rootfs_unpack() {
	mkdir -p "$2"
	tar -C "$2" --numeric-owner -xzf "$1"
	rm -f "$2/etc/apt/sources.list"
	for _d in sources.list sources.list.d apt.conf.d preferences.d trusted.gpg.d keyrings auth.conf.d; do
		[ -e "/etc/apt/$_d" ] && cp -a "/etc/apt/$_d" "$2/etc/apt/"
	done
	for _k in $(grep -h -o 'Signed-By: *[^ ]*\|signed-by=[^] ]*' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		sed 's/.*[: =]//' | sort -u); do
		[ -f "$_k" ] && [ ! -e "$2$_k" ] && mkdir -p "$2${_k%/*}" && cp -a "$_k" "$2$_k"
	done
	cp -L /etc/resolv.conf "$2/etc/resolv.conf"
	[ -f /etc/hosts ] && cp /etc/hosts "$2/etc/hosts"
	mkdir -p "$2/etc/ssl/certs" "$2/usr/local/share/ca-certificates"
	[ -f /etc/ssl/certs/ca-certificates.crt ] && cp -L /etc/ssl/certs/ca-certificates.crt "$2/etc/ssl/certs/"
	[ -d /usr/local/share/ca-certificates ] && cp -a /usr/local/share/ca-certificates/. "$2/usr/local/share/ca-certificates/"
	for _f in /etc/npmrc /usr/etc/npmrc "$HOME/.npmrc"; do
		[ -f "$_f" ] || continue
		case $_f in "$HOME"/*) cat "$_f" >>"$2/root/.npmrc" ;; *) cat "$_f" >>"$2/etc/npmrc" ;; esac
	done
	return 0
}

rootfs_mount() {
	for _p in proc sys dev dev/pts dev/shm; do
		mkdir -p "$1/$_p"
		case $_p in
		proc) mount -t proc proc "$1/proc" ;;
		sys) mount -t sysfs sysfs "$1/sys" ;;
		dev) mount --bind /dev "$1/dev" ;;
		dev/pts) mount -t devpts -o newinstance,ptmxmode=0666 devpts "$1/dev/pts" ;;
		dev/shm) mount -t tmpfs -o mode=1777 tmpfs "$1/dev/shm" ;;
		esac || return 1
		rootfs_mounted="$1/$_p $rootfs_mounted"
	done
}

rootfs_umount() {
	_left=
	for _p in $rootfs_mounted; do
		umount "$_p" 2>/dev/null || umount -l "$_p" || { rootfs_say "could not unmount $_p"; _left="$_left $_p"; }
	done
	rootfs_mounted=$_left
	[ -z "$_left" ]
}

rootfs_sh() {
	chroot "$1" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CI=true \
		/bin/sh -c "$2"
}

rootfs_cleanup() {
	[ -n "$1" ] && [ -d "$1" ] || return 0
	_r=$(cd "$1" && pwd -P)
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/root" 2>/dev/null)" = "$_r" ] && kill -9 "${_p#/proc/}" 2>/dev/null
	done
	rootfs_umount
}
