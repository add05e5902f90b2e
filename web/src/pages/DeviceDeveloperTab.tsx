import { Link } from 'react-router-dom';
import { Empty } from '../components/Status.tsx';
import type { Template } from '../types.ts';
import {
  CopyButton,
  type DeviceWithValues,
  deviceApiBase,
  formatValue,
  fullTime,
  getUrl,
  relativeTime,
  Snippet,
  sampleValue,
  updateUrl,
  useNow,
} from './device-common.tsx';

/** Developer tools: the datastream table with copyable device API URLs for each datastream. */
export function DeveloperTab({ device, template }: { device: DeviceWithValues; template: Template }) {
  const now = useNow();
  const token = encodeURIComponent(device.token);
  const api = deviceApiBase();
  return (
    <div className="dv-dev">
      <h2>Datastreams</h2>
      {template.datastreams.length === 0 ? (
        <Empty>
          {template.name} has no datastreams yet.{' '}
          <Link to={`/templates/${template.id}/datastreams`}>Add datastreams to the template</Link> to give this device
          pins to write and read.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="dv-ds-table" data-testid="datastream-table">
            <thead>
              <tr>
                <th>Pin</th>
                <th>Name</th>
                <th>Type</th>
                <th>Value</th>
                <th>Updated</th>
                <th>Device API</th>
              </tr>
            </thead>
            <tbody>
              {template.datastreams.map((ds) => {
                const v = device.values[ds.pin];
                const get = getUrl(device.token, ds.pin);
                const update = updateUrl(device.token, ds);
                return (
                  <tr key={ds.id} data-testid={`datastream-row-${ds.pin}`}>
                    <td data-label="Pin">
                      <code>{ds.pin}</code>
                    </td>
                    <td data-label="Name" className="dv-ds-name">
                      <span className="ellipsis" title={ds.name}>
                        {ds.name}
                      </span>
                    </td>
                    <td data-label="Type">{ds.type}</td>
                    <td data-label="Value" className="dv-ds-value" data-testid={`datastream-value-${ds.pin}`}>
                      <span className="dv-break">{formatValue(ds, v?.value)}</span>
                    </td>
                    <td data-label="Updated" title={fullTime(v?.ts)}>
                      {v ? relativeTime(v.ts, now) : <span className="muted">never</span>}
                    </td>
                    <td data-label="Device API">
                      <div className="dv-url-buttons">
                        <CopyButton text={get} label="GET URL" testId={`copy-get-${ds.pin}`} />
                        <CopyButton text={update} label="UPDATE URL" testId={`copy-update-${ds.pin}`} />
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <h2>Device HTTPS API</h2>
      <p className="muted dv-small">
        Blynk-compatible calls authenticated by this device's token. Values written through them show up live here and
        on the dashboard.
      </p>
      <div className="dv-snippets">
        {template.datastreams[0] ? (
          <Snippet
            title="Write several pins at once"
            text={`curl "${api}/batch/update?token=${token}&${template.datastreams
              .slice(0, 3)
              .map((d) => `${d.pin}=${encodeURIComponent(sampleValue(d))}`)
              .join('&')}"`}
            testId="snippet-batch"
          />
        ) : null}
        <Snippet title="Read every value" text={`curl "${api}/getAll?token=${token}"`} testId="snippet-getall" />
        <Snippet
          title="Is the device connected?"
          text={`curl "${api}/isHardwareConnected?token=${token}"`}
          testId="snippet-connected"
        />
        {template.events[0] ? (
          <Snippet
            title={`Log the “${template.events[0].name}” event`}
            text={`curl "${api}/logEvent?token=${token}&code=${encodeURIComponent(template.events[0].code)}"`}
            testId="snippet-event"
          />
        ) : null}
      </div>
    </div>
  );
}
