/// A CronJob whose Job is Indexed: at the check cadence, `shards` pods each run `drill run --due --shard I/N`, so the
/// fleet is split with no coordinator. With more than one shard the archive must be on S3 (its lock is safe for
/// concurrent writers); with one, a PersistentVolumeClaim may hold it. The config comes from a ConfigMap, credentials
/// from a Secret as environment, each pod asks for what one drill needs and runs as a non-root user.
struct KubernetesEmitter: ScheduleEmitter {
    var kind: SchedulerUnits.Kind { .kubernetes }

    func emit(_ r: ScheduleRequest) -> [EmittedFile] {
        let shards = max(1, r.shards)
        let archive = r.invocation.archive ?? "/var/lib/drill/archive"
        let onS3 = archive.hasPrefix("s3://")
        let args = r.invocation.arguments(extra: ["--shard", "$(JOB_COMPLETION_INDEX)/\(shards)"])
            .map { "            - \(Quote.yaml($0))" }.joined(separator: "\n")
        // A ConfigMap key cannot hold a slash: the drill files are mapped into drills/ one by one.
        let items = (["tiers.json"] + r.drills.map { "drills/\($0.name).json" }).map { path in
            let key = path.split(separator: "/").last.map(String.init) ?? path
            return "                - key: \(Quote.yaml(key))\n                  path: \(Quote.yaml(path))"
        }.joined(separator: "\n")
        let archiveMount = onS3 ? "" : """

                        - name: archive
                          mountPath: \(Quote.yaml(archive))
            """
        let archiveVolume = onS3 ? "" : """

                      - name: archive
                        persistentVolumeClaim:
                          claimName: drill-archive
            """
        let text = """
            # drill: a CronJob that runs the due drills \(r.cadenceWords) in \(shards) shard\(shards == 1 ? "" : "s"), one pod per shard.
            # Before applying:
            #   kubectl create configmap drill-config --from-file=tiers.json --from-file=drills/
            #   kubectl create secret generic drill-credentials --from-literal=AWS_ACCESS_KEY_ID=… --from-literal=AWS_SECRET_ACCESS_KEY=…
            # (plus PGPASSWORD or a PGPASSFILE for server targets). Build the image with the Containerfile in drill's
            # repository. Kubernetes 1.27+ (timeZone).
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: drill-due
              labels:
                app.kubernetes.io/name: drill
            spec:
              schedule: \(Quote.yaml(r.cadenceCron))
              timeZone: "Etc/UTC"
              concurrencyPolicy: Forbid
              startingDeadlineSeconds: \(r.minutes * 60)
              successfulJobsHistoryLimit: 3
              failedJobsHistoryLimit: 12
              jobTemplate:
                spec:
                  completionMode: Indexed
                  completions: \(shards)
                  parallelism: \(shards)
                  backoffLimit: 0
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: drill
                    spec:
                      restartPolicy: Never
                      securityContext:
                        runAsNonRoot: true
                        runAsUser: 10001
                        runAsGroup: 10001
                        fsGroup: 10001
                        seccompProfile:
                          type: RuntimeDefault
                      containers:
                      - name: drill
                        image: \(Quote.yaml(r.image))
                        command:
                        - \(Quote.yaml(r.invocation.executable))
                        args:
            \(args)
                        env:
                        - name: JOB_COMPLETION_INDEX
                          valueFrom:
                            fieldRef:
                              fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                        - name: DRILL_SCRATCH_DIR
                          value: "/scratch"
                        - name: DRILL_CACHE_DIR
                          value: "/scratch/.cache"
                        envFrom:
                        - secretRef:
                            name: drill-credentials
                        resources:
                          requests:
                            cpu: \(Quote.yaml(r.resources.cpu))
                            memory: \(Quote.yaml(r.resources.memory))
                            ephemeral-storage: \(Quote.yaml(r.resources.scratch))
                          limits:
                            memory: \(Quote.yaml(r.resources.memory))
                            ephemeral-storage: \(Quote.yaml(r.resources.scratch))
                        securityContext:
                          allowPrivilegeEscalation: false
                          readOnlyRootFilesystem: true
                          capabilities:
                            drop:
                            - ALL
                        volumeMounts:
                        - name: config
                          mountPath: \(Quote.yaml(r.invocation.configDir))
                          readOnly: true
                        - name: scratch
                          mountPath: "/scratch"
                        - name: tmp
                          mountPath: "/tmp"\(archiveMount)
                      volumes:
                      - name: config
                        configMap:
                          name: drill-config
                          items:
            \(items)
                      - name: scratch
                        emptyDir:
                          sizeLimit: \(Quote.yaml(r.resources.scratch))
                      - name: tmp
                        emptyDir: {}\(archiveVolume)

            """
        return [EmittedFile(name: "drill-cronjob.yaml", contents: text)]
    }
}
