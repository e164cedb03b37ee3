#!/bin/sh
# Lists mt artifacts with their kind, the tool that made each and how long it took (from the
# mt_kind, mt_tool and mt_elapsed_seconds attributes every artifact carries). Needs h5dump (hdf5-tools).
attribute() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr -d '"' | head -n 1; }
printf '%-76s %-14s %-12s %9s\n' artifact kind tool seconds
for file in "$@"; do
  [ -f "$file" ] || continue
  printf '%-76s %-14s %-12s %9s\n' "$file" "$(attribute "$file" mt_kind)" "$(attribute "$file" mt_tool)" "$(attribute "$file" mt_elapsed_seconds)"
done
