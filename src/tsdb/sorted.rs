//! Operations on sorted, deduplicated id lists (postings), shared by the head and
//! the block readers.

/// The ids in both sorted lists.
pub(crate) fn intersect<T: Ord + Copy>(a: &[T], b: &[T]) -> Vec<T> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The ids in any of the sorted lists, sorted and deduplicated.
pub(crate) fn union<T: Ord + Copy>(lists: impl IntoIterator<Item = impl AsRef<[T]>>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut n = 0;
    for l in lists {
        out.extend_from_slice(l.as_ref());
        n += 1;
    }
    if n > 1 {
        out.sort_unstable();
        out.dedup();
    }
    out
}

/// The ids of sorted list `a` that are not in sorted list `b`.
pub(crate) fn difference<T: Ord + Copy>(a: &[T], b: &[T]) -> Vec<T> {
    let mut j = 0;
    let mut out = Vec::with_capacity(a.len());
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j >= b.len() || b[j] != x {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn intersect() {
        assert_eq!(super::intersect(&[1, 3, 5, 7], &[2, 3, 4, 7, 9]), [3, 7]);
        assert!(super::intersect::<u32>(&[], &[1]).is_empty());
    }

    #[test]
    fn union_and_difference() {
        assert_eq!(super::union([vec![1, 4], vec![2, 4, 6]]), [1, 2, 4, 6]);
        assert_eq!(
            super::union::<u32>(Vec::<Vec<u32>>::new()),
            Vec::<u32>::new()
        );
        assert_eq!(super::difference(&[1, 2, 3, 5], &[2, 5, 9]), [1, 3]);
    }
}
