using System.Runtime.CompilerServices;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Strictly increasing send stamps: UTC ticks of the store's <see cref="TimeProvider"/>, bumped on ties. They keep an
/// instance's messages in sending order within a work item.
/// </summary>
internal sealed class SendClock
{
    // The last stamp is shared by the store objects of one clock: messages sent to an instance through two store
    // objects (a client's and an engine's, or an engine restarted in-process) keep their sending order even on a fake
    // clock that stands still, and a fake clock's stamps never leak into the stores on the real one.
    private static readonly ConditionalWeakTable<TimeProvider, StrongBox<long>> LastStampByClock = new();

    private readonly TimeProvider _time;
    private readonly StrongBox<long> _last;

    public SendClock(TimeProvider time)
    {
        _time = time;
        _last = LastStampByClock.GetValue(time, _ => new StrongBox<long>());
    }

    public long Next()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _last.Value);
            var next = Math.Max(last + 1, _time.GetUtcNow().UtcTicks);
            if (Interlocked.CompareExchange(ref _last.Value, next, last) == last)
            {
                return next;
            }
        }
    }
}
