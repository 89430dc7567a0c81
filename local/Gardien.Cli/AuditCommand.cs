using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Gardien.Local.Configuration;
using Gardien.Storage.Audit;
using Gardien.Workflows.Ports;
using Microsoft.Extensions.Configuration;

namespace Gardien.Cli;

/// <summary>
/// <c>gardien audit verify</c> recomputes the hash chain of the audit trail (exit 0 intact, 1 broken, 2 usage or I/O
/// error); <c>gardien audit show</c> prints the latest entries. Storage comes from the options, else from
/// configuration (<c>Local__StorageConnectionString</c> / <c>Local__BlobServiceUri</c>), else Azurite's default endpoints.
/// </summary>
internal static class AuditCommand
{
    private static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly JsonSerializerOptions JsonLines = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var audit = new Command("audit", "Inspect and verify the tamper-evident audit trail.");
        audit.Subcommands.Add(CreateVerify());
        audit.Subcommands.Add(CreateShow());
        return audit;
    }

    private static Command CreateVerify()
    {
        var storage = new StorageOptions();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var verify = new Command(
            "verify",
            "Recompute the audit hash chain and report the first broken link. Exit code: 0 intact, 1 broken, 2 usage or I/O error.");
        storage.AddTo(verify);
        verify.Options.Add(json);
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var log = storage.CreateLog(parse, out var describe);
            return await RunStorageAsync(error, describe, async () =>
            {
                if (!await log.ExistsAsync(cancellationToken))
                {
                    await error.WriteLineAsync(
                        $"error: the audit container does not exist ({describe}). Check --container and the storage connection.");
                    return CliRunner.UsageOrIoError;
                }

                var result = await log.VerifyAsync(cancellationToken);
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(new
                    {
                        intact = result.Intact,
                        entriesChecked = result.EntriesChecked,
                        lastHash = result.LastHash,
                        firstBrokenLink = result.FirstBrokenLink,
                        container = describe,
                    }, JsonOutput));
                }
                else if (result.Intact)
                {
                    await output.WriteLineAsync($"Audit chain intact: {result.EntriesChecked} entries checked ({describe}).");
                    if (result.LastHash is not null)
                    {
                        await output.WriteLineAsync(
                            $"Last hash: {result.LastHash} (keep it: a later verify proves nothing was appended-then-removed before it).");
                    }
                }
                else
                {
                    var broken = result.FirstBrokenLink!;
                    await output.WriteLineAsync(
                        $"Audit chain BROKEN at entry {broken.Sequence}: {broken.Location} line {broken.LineNumber}.");
                    await output.WriteLineAsync($"  problem:  {broken.Problem}");
                    if (broken.Expected is not null || broken.Actual is not null)
                    {
                        await output.WriteLineAsync($"  expected: {broken.Expected ?? "-"}");
                        await output.WriteLineAsync($"  actual:   {broken.Actual ?? "-"}");
                    }

                    await output.WriteLineAsync(
                        $"  {result.EntriesChecked} entries before it are intact; everything from this entry on is untrusted.");
                }

                return result.Intact ? CliRunner.Ok : CliRunner.Invalid;
            });
        });
        return verify;
    }

    private static Command CreateShow()
    {
        var storage = new StorageOptions();
        var last = new Option<int>("--last") { Description = "How many of the latest entries to print.", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "Print entries as JSON lines." };
        var show = new Command("show", "Print the latest audit entries (without verifying them: use 'audit verify').");
        storage.AddTo(show);
        show.Options.Add(last);
        show.Options.Add(json);
        show.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var count = parse.GetValue(last);
            if (count < 1)
            {
                await error.WriteLineAsync("error: --last must be at least 1.");
                return CliRunner.UsageOrIoError;
            }

            var log = storage.CreateLog(parse, out var describe);
            return await RunStorageAsync(error, describe, async () =>
            {
                var window = new Queue<AuditRecord>();
                await foreach (var record in log.ReadAsync(cancellationToken: cancellationToken))
                {
                    window.Enqueue(record);
                    if (window.Count > count)
                    {
                        window.Dequeue();
                    }
                }

                foreach (var record in window)
                {
                    if (parse.GetValue(json))
                    {
                        await output.WriteLineAsync(JsonSerializer.Serialize(record, JsonLines));
                    }
                    else
                    {
                        var e = record.Entry;
                        await output.WriteLineAsync(
                            string.Create(
                                CultureInfo.InvariantCulture,
                                $"#{record.Sequence} {e.Timestamp.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z {e.Actor} {e.Action} {e.Subject}")
                            + (e.InstanceId.Length > 0 ? " [" + e.InstanceId + "]" : string.Empty));
                    }
                }

                if (window.Count == 0)
                {
                    await output.WriteLineAsync($"No audit entries ({describe}).");
                }

                return CliRunner.Ok;
            });
        });
        return show;
    }

    private static async Task<int> RunStorageAsync(TextWriter error, string describe, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (RequestFailedException ex)
        {
            await error.WriteLineAsync(
                $"error: storage request failed ({describe}): {ex.Status} {ex.ErrorCode ?? ex.Message.Split('\n')[0]}");
            return CliRunner.UsageOrIoError;
        }
        catch (AuthenticationFailedException ex)
        {
            await error.WriteLineAsync($"error: could not authenticate to {describe}: {ex.Message.Split('\n')[0]}");
            return CliRunner.UsageOrIoError;
        }
        catch (AggregateException ex)
        {
            await error.WriteLineAsync($"error: cannot reach {describe}: {ex.InnerExceptions.FirstOrDefault()?.Message ?? ex.Message}");
            return CliRunner.UsageOrIoError;
        }
        catch (PortException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return CliRunner.UsageOrIoError;
        }
    }

    /// <summary>The storage options shared by the audit subcommands.</summary>
    private sealed class StorageOptions
    {
        private readonly Option<string?> _connectionString = new("--connection-string")
        {
            Description = "Azure Storage connection string (default: Local__StorageConnectionString, else Azurite's default endpoints).",
        };

        private readonly Option<Uri?> _blobServiceUri = new("--blob-service-uri")
        {
            Description = "Blob endpoint, authenticated with DefaultAzureCredential (instead of a connection string).",
        };

        private readonly Option<string> _container = new("--container")
        {
            Description = "Audit container name.",
            DefaultValueFactory = _ => "audit",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(_connectionString);
            command.Options.Add(_blobServiceUri);
            command.Options.Add(_container);
            command.Validators.Add(result =>
            {
                if (result.GetResult(_connectionString) is not null && result.GetResult(_blobServiceUri) is not null)
                {
                    result.AddError("Use either --connection-string or --blob-service-uri, not both.");
                }
            });
        }

        public AppendBlobAuditLog CreateLog(ParseResult parse, out string describe)
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            var local = new LocalAdaptersOptions();
            configuration.GetSection(LocalAdaptersOptions.SectionName).Bind(local);

            // Fail fast on an unreachable endpoint: a CLI should not sit through minutes of retries.
            var clientOptions = new BlobClientOptions();
            clientOptions.Retry.MaxRetries = 2;
            clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);

            var container = parse.GetValue(_container) ?? "audit";
            BlobServiceClient service;
            if (parse.GetValue(_blobServiceUri) is { } uri)
            {
                service = new BlobServiceClient(uri, new DefaultAzureCredential(), clientOptions);
            }
            else if (parse.GetValue(_connectionString) is { Length: > 0 } connectionString)
            {
                service = new BlobServiceClient(connectionString, clientOptions);
            }
            else if (local.BlobServiceUri is not null && string.IsNullOrWhiteSpace(local.StorageConnectionString))
            {
                service = new BlobServiceClient(local.BlobServiceUri, new DefaultAzureCredential(), clientOptions);
            }
            else
            {
                service = new BlobServiceClient(local.EffectiveConnectionString, clientOptions);
            }

            var client = service.GetBlobContainerClient(container);
            describe = $"container '{container}' at {service.Uri}";
            return new AppendBlobAuditLog(client);
        }
    }
}
