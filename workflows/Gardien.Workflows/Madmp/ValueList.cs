using System.Collections;

namespace Gardien.Workflows.Madmp;

/// <summary>
/// An immutable list that compares by value (same items, same order). The model's records expose their lists as
/// <see cref="IReadOnlyList{T}"/> backed by this type, so that two reads of the same document give equal records:
/// a record's generated equality only compares the list references otherwise.
/// </summary>
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private readonly T[] _items;

    private ValueList(T[] items)
    {
        _items = items;
    }

    public static ValueList<T> Empty { get; } = new([]);

    public int Count => _items.Length;

    public T this[int index] => _items[index];

    /// <summary>A value list with the items of <paramref name="items"/>, copied so later changes to the source do not show.</summary>
    public static ValueList<T> From(IEnumerable<T>? items) => items switch
    {
        null => Empty,
        ValueList<T> list => list,
        ICollection<T> { Count: 0 } => Empty,
        _ => Own([.. items]),
    };

    /// <summary>Takes ownership of an array nobody else holds (the mapper's freshly built arrays), without copying.</summary>
    internal static ValueList<T> Own(T[] items) => items.Length == 0 ? Empty : new(items);

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(ValueList<T>? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._items.Length != _items.Length)
        {
            return false;
        }

        var comparer = EqualityComparer<T>.Default;
        for (var i = 0; i < _items.Length; i++)
        {
            if (!comparer.Equals(_items[i], other._items[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is ValueList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(_items.Length);
        foreach (var item in _items)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    /// <summary>"[a, b, c]", so that records print their lists' content (test failures, logs) rather than a type name.</summary>
    public override string ToString() => "[" + string.Join(", ", _items) + "]";
}

/// <summary>Factory for <see cref="ValueList{T}"/> with type inference.</summary>
public static class ValueList
{
    public static ValueList<T> From<T>(IEnumerable<T>? items) => ValueList<T>.From(items);

    /// <summary>Materialises a query the caller owns into a value list without a second copy.</summary>
    internal static ValueList<T> ToValueList<T>(this IEnumerable<T> items) => ValueList<T>.Own([.. items]);
}
