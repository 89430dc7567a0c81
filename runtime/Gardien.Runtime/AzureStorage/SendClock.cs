namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// Strictly increasing send stamps: UTC ticks of the store's <see cref="TimeProvider"/>, bumped on ties. They keep an
/// instance's messages in sending order within a work item.
/// </summary>
internal sealed class SendClock(TimeProvider time)
{
    // Shared by every store object of the process: messages sent to one instance through two store objects (a client's
    // and an engine's, or an engine restarted in-process) keep their sending order even on a fake clock that stands still.
    private static long _last;

    public long Next()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _last);
            var next = Math.Max(last + 1, time.GetUtcNow().UtcTicks);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }
}
