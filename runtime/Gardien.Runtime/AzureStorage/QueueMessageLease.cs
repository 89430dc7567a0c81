using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Gardien.Runtime.AzureStorage;

/// <summary>
/// A dequeued message whose invisibility is the lease a worker holds on it. Long work renews it at half the
/// visibility timeout; every renewal yields a new pop receipt, which the final delete or abandon must use.
/// </summary>
internal sealed class QueueMessageLease : IAsyncDisposable
{
    private readonly QueueClient _queue;
    private readonly TimeSpan _visibilityTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Task? _renewal;
    private string _popReceipt;
    private bool _settled;

    public QueueMessageLease(QueueClient queue, QueueMessage message, TimeSpan visibilityTimeout)
    {
        _queue = queue;
        _visibilityTimeout = visibilityTimeout;
        MessageId = message.MessageId;
        DequeueCount = message.DequeueCount;
        _popReceipt = message.PopReceipt;
    }

    public string MessageId { get; }

    public long DequeueCount { get; }

    public QueueClient Queue => _queue;

    /// <summary>Starts renewing the lease in the background until the message is deleted or abandoned.</summary>
    public void StartRenewing()
    {
        _renewal ??= Task.Run(RenewLoopAsync);
    }

    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        await SettleAsync(async receipt =>
        {
            try
            {
                await _queue.DeleteMessageAsync(MessageId, receipt, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Already deleted, or the lease expired and another worker holds it now: the history dedups that worker's run.
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Makes the message visible again after <paramref name="delay"/> so that this or another worker retries it.</summary>
    public async Task AbandonAsync(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        await SettleAsync(async receipt =>
        {
            try
            {
                await _queue.UpdateMessageAsync(MessageId, receipt, visibilityTimeout: delay, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 400)
            {
                // The lease already expired: the message is visible again anyway.
            }
        }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        _stop.Dispose();
        _gate.Dispose();
    }

    private async Task SettleAsync(Func<string, Task> settle)
    {
        await StopRenewingAsync().ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_settled)
            {
                return;
            }

            _settled = true;
            await settle(_popReceipt).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StopRenewingAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        if (_renewal is not null)
        {
            try
            {
                await _renewal.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected on stop.
            }
        }
    }

    private async Task RenewLoopAsync()
    {
        var period = _visibilityTimeout / 2;
        while (!_stop.IsCancellationRequested)
        {
            await Task.Delay(period, _stop.Token).ConfigureAwait(false);
            await _gate.WaitAsync(_stop.Token).ConfigureAwait(false);
            try
            {
                if (_settled)
                {
                    return;
                }

                var receipt = await _queue.UpdateMessageAsync(MessageId, _popReceipt, visibilityTimeout: _visibilityTimeout, cancellationToken: _stop.Token)
                    .ConfigureAwait(false);
                _popReceipt = receipt.Value.PopReceipt;
            }
            catch (RequestFailedException)
            {
                // Lost the lease (expired and taken): stop renewing; the commit's ETag check protects the instance.
                return;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
